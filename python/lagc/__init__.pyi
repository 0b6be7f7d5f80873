"""lagc: compiled Lagrangian mechanics on numpy arrays.

Load a `.lag` source, pick a system, and evaluate, integrate or train it. States are
rows: the coordinates, then the velocities (momenta for H systems), as in `System.inputs`.
"""

import os
from typing import Any, Literal, Mapping, Union

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike
PathLike = Union[str, "os.PathLike[str]"]
Backend = Literal["jit", "interp"]
Distribution = tuple[str, float, float]

class LagError(ValueError):
    """A `.lag` source that does not parse or check.

    `str(err)` is the command line's located text (file:line:col, the line, a caret).
    """

    diagnostics: list[dict[str, Any]]
    """One dict per diagnostic: `line` and `col` (from 1) and `message`."""

class DivergedError(RuntimeError):
    """A simulation whose state became non-finite (or whose Newton step failed)."""

    trajectory: Trajectory
    """The whole finite rows computed before it stopped."""

def load(path: PathLike, set: Mapping[str, float] | None = None) -> Model:
    """Read and check a `.lag` file; `set` overrides params as `--set` does.

    Files the source names (weights, CSV) resolve against the file's folder, as in the CLI.
    Raises LagError for a bad source, OSError if the file cannot be read.
    """

def loads(text: str, name: str = "inline.lag", set: Mapping[str, float] | None = None) -> Model:
    """Check `.lag` source text; `name` is the file name diagnostics show."""

class Model:
    """A checked `.lag` source with its param overrides."""

    @property
    def systems(self) -> list[str]:
        """The system names, in file order."""

    def __getitem__(self, name: str) -> System:
        """The system `name` compiled with the JIT backend; KeyError if there is none."""

    def system(self, name: str, backend: Backend = "jit") -> System:
        """The system `name` compiled with `backend` ("jit" or "interp")."""

    def run(self, no_train: bool = False, quiet: bool = True) -> list[dict[str, Any]]:
        """Run every simulate and train block, as `lagc run FILE`; one report per block.

        Output files are written relative to the current directory. With `no_train`,
        train blocks are skipped and the weights files they save stand in for them.
        """

class Trajectory:
    """Rows at t_k = k*dt_out (dt_out defaults to dt); an ensemble of k runs has a leading axis k on q, v, a, energy."""

    t: FloatArray
    """Times, (m,)."""
    q: FloatArray
    """Coordinates, (m, dof) or (k, m, dof)."""
    v: FloatArray
    """Velocities (momenta for H systems), (m, dof) or (k, m, dof)."""
    a: FloatArray
    """Accelerations q'', (m, dof) or (k, m, dof)."""
    multipliers: FloatArray
    """Constraint multipliers `lambda_NAME` in declaration order, (m, constraints) or
    (k, m, constraints); no columns without constraints."""
    energy: FloatArray
    """Energy at each row (NaN for accel systems), (m,) or (k, m)."""

    def to_dict(self) -> dict[str, FloatArray]:
        """The trajectory CSV's columns by name (`t`, coordinates, velocities, `q''`..., `energy`)."""

class TrainResult:
    """The outcome of `System.train`; the system's weights are updated in place."""

    loss: FloatArray
    """Training (batch) loss of each step, (steps,)."""
    val_loss: FloatArray
    """Validation loss at the loss curve's points, NaN at other steps, (steps,)."""
    curve_steps: npt.NDArray[np.int64]
    """The steps (from 1) at which the validation loss was recorded."""
    final_val_loss: float
    """Validation loss over every validation row after the last step."""
    skipped_steps: int
    """Steps skipped because their gradient was not finite."""

class System:
    """One compiled system. Picklable: it travels as source, name, overrides, weights
    and backend, and recompiles on arrival. Methods release the GIL while compiled code
    runs, so threads evaluate in parallel."""

    @property
    def name(self) -> str: ...
    @property
    def coords(self) -> list[str]:
        """Coordinate names; arrays expanded ("phi[0]", ...)."""
    @property
    def inputs(self) -> list[str]:
        """State column names: the coordinates, then the velocities (or momenta)."""
    @property
    def params(self) -> dict[str, float]:
        """Param values (after overrides)."""
    @property
    def learn(self) -> dict[str, float]:
        """Current values of the `learn` scalars."""
    @property
    def measured(self) -> list[str]:
        """Measured inputs (`input u;`): signals given to `simulate(inputs=...)`."""
    @property
    def nets(self) -> dict[str, tuple[int, list[int], int, str]]:
        """Nets by name: (inputs, hidden widths, outputs, activation)."""
    @property
    def dof(self) -> int:
        """Degrees of freedom (number of coordinates)."""

    def accel(self, states: ArrayLike, t: float | ArrayLike | None = None) -> FloatArray:
        """q'' at each state: (n, 2*dof) -> (n, dof), or (2*dof,) -> (dof,).

        Any float array is accepted (float32, non-contiguous); `t` is a scalar or (n,),
        0 when omitted. Raises ValueError on a wrong shape.
        """

    def energy(self, states: ArrayLike, t: float | ArrayLike | None = None) -> FloatArray | float:
        """The energy at each state: (n,), or a scalar for one state (NaN for accel systems)."""

    def rhs(self, t: float, y: ArrayLike) -> FloatArray:
        """The first-order form y' = f(t, y) with y = (q, q'): returns (q', q''), shape (2*dof,).

        Suitable as `fun` of scipy.integrate.solve_ivp.
        """

    def terms(self, states: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(H, M, g) at each state: the mass matrix d2L/dq'dq' (n, dof, dof), the mixed
        term d2L/dq'_i dq_j (n, dof, dof) and dL/dq (n, dof)."""

    def derive(self, format: Literal["text", "latex", "json"] = "text") -> Any:
        """The derivation as `lagc derive` prints it: text or LaTeX (str), or JSON (dict)."""

    def _repr_latex_(self) -> str:
        """The LaTeX derivation, for notebooks."""

    def simulate(
        self,
        init: Mapping[str, float] | ArrayLike,
        t_end: float,
        dt: float,
        method: Literal["rk4", "dopri5", "variational"] = "rk4",
        rtol: float = 1e-9,
        atol: float = 1e-9,
        project_init: bool = False,
        dt_out: float | None = None,
        inputs: Mapping[str, ArrayLike] | None = None,
    ) -> Trajectory:
        """Integrate from `init`: a dict by state name (others start at 0), a (2*dof,)
        array, or a (k, 2*dof) array of k initial states (an ensemble, run in parallel).
        A system with measured inputs (`input u;`) needs `inputs={"t": t, "u": u}`:
        samples interpolated linearly, t strictly increasing and covering [0, t_end].
        With constraints, an initial state off them raises unless `project_init` moves it
        onto them; the multipliers are the outputs named `lambda_NAME`.

        Rows at every multiple of dt_out (default: dt), as `lagc simulate`: for rk4 and
        variational dt_out must be a multiple of dt (ValueError otherwise), and rows come
        every dt_out/dt steps; dopri5 steps as its error control chooses (dt bounds its
        first step) and takes the rows from its dense output. Raises DivergedError
        (carrying the finite rows) when the state becomes non-finite.
        """

    def weights(self) -> dict[str, FloatArray]:
        """Net weights ("V.w0" (fan_in, fan_out), "V.b0" (fan_out,), ...) and learn
        scalars (0-d arrays), as in a weights file."""

    def set_weights(self, weights: Mapping[str, ArrayLike]) -> None:
        """Replace weights by key; shapes are checked (ValueError), float32 is accepted,
        unknown keys are ignored."""

    def save_weights(self, path: PathLike) -> None:
        """Write the weights as a safetensors file (f64), readable by `lagc --weights`."""

    def load_weights(self, path: PathLike) -> None:
        """Read weights from a safetensors file."""

    def sample(self, n: int, seed: int = 0, **ranges: Distribution) -> tuple[FloatArray, FloatArray]:
        """n random states and their exact targets, as `sample(...)` in a train block.

        `ranges` maps state names to ("uniform", a, b) or ("normal", mu, sigma); names
        with a prime need `**{"theta'": (...)}`. Unnamed variables are 0. Returns
        (states (n, 2*dof), targets (n, dof)).
        """

    def train(
        self,
        data: tuple[ArrayLike, ArrayLike],
        steps: int,
        batch: int = 32,
        lr: float = 1e-3,
        lr_decay: float = 1.0,
        loss: Literal["mse", "l1"] = "mse",
        seed: int = 0,
        val: float = 0.1,
        reg: float = 0.0,
        t: ArrayLike | None = None,
        reinit: bool = False,
        progress: bool = False,
    ) -> TrainResult:
        """Fit the nets and learn scalars to (states, targets) with Adam, updating the
        weights in place; the same trainer and numbers as `lagc train`.

        Targets are q'' (n, dof), or (q', p') (n, 2*dof) for H systems; `t` gives the
        states' times (0 without it); `reg` is the Tikhonov term added to H before the
        solve. Training starts from the system's current weights; `reinit=True` starts
        the nets from the seeded initial weights for `seed`, as `lagc train` does.
        Ctrl-C stops it, keeps the weights trained so far and raises KeyboardInterrupt."""

    def __reduce__(self) -> tuple[Any, ...]: ...
