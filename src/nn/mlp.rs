//! Multilayer perceptrons: shapes, flat parameters, activations and the plain forward pass.

use crate::check::{Activation, Net};
use nalgebra::{DMatrixView, DMatrixViewMut};

/// A multilayer perceptron with its parameters.
///
/// Layer `k` computes `act(x @ w_k + b_k)`; the last layer has no activation. The
/// parameters are one flat vector, layer by layer: `w_k` row-major with shape
/// `(fan_in, fan_out)` (entry `(i, j)` at `i * fan_out + j`), then `b_k` (`fan_out`
/// entries). Weights files and parameter gradients use the same layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    widths: Vec<usize>,
    act: Activation,
    params: Vec<f64>,
    /// Offsets of `w_k` in `params`, one per layer (`b_k` follows `w_k`).
    offsets: Vec<usize>,
}

/// Why parameters do not fit a shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a net of widths {widths:?} has {expected} parameters, got {found}")]
pub struct ShapeError {
    /// Layer widths, input to output.
    pub widths: Vec<usize>,
    /// Parameters the shape needs.
    pub expected: usize,
    /// Parameters given.
    pub found: usize,
}

impl Mlp {
    /// An MLP of layer widths `widths` (input first, output last, at least two
    /// entries) with all parameters zero.
    pub fn zeros(widths: &[usize], act: Activation) -> Mlp {
        let mut offsets = Vec::new();
        let mut n = 0;
        for p in widths.windows(2) {
            offsets.push(n);
            n += p[0] * p[1] + p[1];
        }
        Mlp {
            widths: widths.to_vec(),
            act,
            params: vec![0.0; n],
            offsets,
        }
    }

    /// An MLP of the shape of a checked `net`, all parameters zero.
    pub fn for_net(net: &Net) -> Mlp {
        Mlp::zeros(&net.widths(), net.act)
    }

    /// An MLP with the given flat parameters (layout in the type's documentation).
    pub fn with_params(
        widths: &[usize],
        act: Activation,
        params: Vec<f64>,
    ) -> Result<Mlp, ShapeError> {
        let mut m = Mlp::zeros(widths, act);
        if params.len() != m.params.len() {
            return Err(ShapeError {
                widths: widths.to_vec(),
                expected: m.params.len(),
                found: params.len(),
            });
        }
        m.params = params;
        Ok(m)
    }

    /// Layer widths, input to output.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    /// Number of inputs.
    pub fn n_inputs(&self) -> usize {
        self.widths[0]
    }

    /// Number of outputs.
    pub fn n_outputs(&self) -> usize {
        self.widths[self.widths.len() - 1]
    }

    /// Number of layers (weight matrices).
    pub fn n_layers(&self) -> usize {
        self.offsets.len()
    }

    /// The hidden activation.
    pub fn act(&self) -> Activation {
        self.act
    }

    /// The flat parameters.
    pub fn params(&self) -> &[f64] {
        &self.params
    }

    /// The flat parameters, mutable (for optimisers).
    pub fn params_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }

    /// Number of parameters.
    pub fn n_params(&self) -> usize {
        self.params.len()
    }

    /// The range of `w_k` and of `b_k` in the flat parameters.
    pub fn layer_ranges(&self, k: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let (fi, fo) = (self.widths[k], self.widths[k + 1]);
        let w = self.offsets[k];
        (w..w + fi * fo, w + fi * fo..w + fi * fo + fo)
    }

    /// `(w_k, b_k)`: weights row-major (fan_in, fan_out) and biases.
    pub fn layer(&self, k: usize) -> (&[f64], &[f64]) {
        let (w, b) = self.layer_ranges(k);
        (&self.params[w], &self.params[b])
    }

    /// The outputs at `x` (`x.len() == n_inputs()`, `out.len() == n_outputs()`).
    pub fn forward(&self, x: &[f64], out: &mut [f64]) {
        let mut h = x.to_vec();
        for k in 0..self.n_layers() {
            let (w, b) = self.layer(k);
            let fo = self.widths[k + 1];
            let mut z = b.to_vec();
            matmul_acc(1, &h, w, fo, &mut z);
            if k + 1 < self.n_layers() {
                for v in &mut z {
                    *v = act_derivs(self.act, *v)[0];
                }
            }
            h = z;
        }
        out.copy_from_slice(&h);
    }
}

/// `[s(z), s'(z), s''(z), s'''(z)]` of activation `s`.
pub fn act_derivs(act: Activation, z: f64) -> [f64; 4] {
    match act {
        Activation::Softplus => {
            // log(1 + e^z) = max(z, 0) + log(1 + e^-|z|), without overflow; s' is the
            // logistic function. One exponential serves both.
            let e = (-z.abs()).exp();
            let s = z.max(0.0) + e.ln_1p();
            let g = logistic_from(z, e);
            let g1 = g * (1.0 - g);
            [s, g, g1, g1 * (1.0 - 2.0 * g)]
        }
        Activation::Tanh => {
            let t = z.tanh();
            let d = 1.0 - t * t;
            [t, d, -2.0 * t * d, -2.0 * d * (1.0 - 3.0 * t * t)]
        }
        Activation::Sigmoid => {
            let g = logistic_from(z, (-z.abs()).exp());
            let g1 = g * (1.0 - g);
            [
                g,
                g1,
                g1 * (1.0 - 2.0 * g),
                g1 * (1.0 - 6.0 * g + 6.0 * g * g),
            ]
        }
        Activation::Relu2 => {
            if z > 0.0 {
                [z * z, 2.0 * z, 2.0, 0.0]
            } else {
                [0.0; 4]
            }
        }
        Activation::Sin => {
            let (s, c) = z.sin_cos();
            [s, c, -s, -c]
        }
        Activation::Relu => {
            if z > 0.0 {
                [z, 1.0, 0.0, 0.0]
            } else {
                [0.0; 4]
            }
        }
    }
}

/// The logistic function of `z`, given `e = exp(-|z|)`.
fn logistic_from(z: f64, e: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

/// Dimensions from which products go through `matrixmultiply` (via nalgebra's safe
/// `gemm`). It must stay above nalgebra's own threshold (5): below it nalgebra uses
/// a generic path that assumes unit row strides, which these row-major views lack.
const GEMM_MIN: usize = 8;

/// `out += a @ w`: `a` is `rows x k` row-major, `w` is `k x n` row-major, `out` is
/// `rows x n` row-major.
pub(crate) fn matmul_acc(rows: usize, a: &[f64], w: &[f64], n: usize, out: &mut [f64]) {
    let k = a.len().checked_div(rows).unwrap_or(0);
    if rows >= GEMM_MIN && k >= GEMM_MIN && n >= GEMM_MIN {
        // Row-major matrices are column-major views with swapped strides.
        let av = DMatrixView::from_slice_with_strides(a, rows, k, k, 1);
        let wv = DMatrixView::from_slice_with_strides(w, k, n, n, 1);
        let mut ov = DMatrixViewMut::from_slice_with_strides_mut(out, rows, n, n, 1);
        ov.gemm(1.0, &av, &wv, 1.0);
        return;
    }
    for (ar, or) in a.chunks_exact(k.max(1)).zip(out.chunks_exact_mut(n.max(1))) {
        axpy_rows(ar, w, n, or);
    }
}

/// `o += sum_i a[i] * w[i, :]` (`w` row-major with `n` columns), four rows of `w` per
/// pass over `o` so that `o` is loaded and stored a quarter as often.
fn axpy_rows(a: &[f64], w: &[f64], n: usize, o: &mut [f64]) {
    let n = n.max(1);
    let mut i = 0;
    while i + 4 <= a.len() {
        let (a0, a1, a2, a3) = (a[i], a[i + 1], a[i + 2], a[i + 3]);
        let rows = &w[i * n..(i + 4) * n];
        let (w0, rest) = rows.split_at(n);
        let (w1, rest) = rest.split_at(n);
        let (w2, w3) = rest.split_at(n);
        for ((((o, &x0), &x1), &x2), &x3) in o.iter_mut().zip(w0).zip(w1).zip(w2).zip(w3) {
            *o += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
        }
        i += 4;
    }
    for (&ai, wr) in a[i..].iter().zip(w[i * n..].chunks_exact(n)) {
        for (o, &x) in o.iter_mut().zip(wr) {
            *o += ai * x;
        }
    }
}

/// The dot product with eight independent partial sums (so it vectorises).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// `out += a @ w^T`: `a` is `rows x n`, `w` is `k x n` (so `w^T` is `n x k`), `out`
/// is `rows x k`; all row-major.
pub(crate) fn matmul_t_acc(rows: usize, a: &[f64], w: &[f64], k: usize, out: &mut [f64]) {
    let n = a.len().checked_div(rows).unwrap_or(0);
    if rows >= GEMM_MIN && k >= GEMM_MIN && n >= GEMM_MIN {
        let av = DMatrixView::from_slice_with_strides(a, rows, n, n, 1);
        let wt = DMatrixView::from_slice_with_strides(w, n, k, 1, n);
        let mut ov = DMatrixViewMut::from_slice_with_strides_mut(out, rows, k, k, 1);
        ov.gemm(1.0, &av, &wt, 1.0);
        return;
    }
    for (ar, or) in a.chunks_exact(n.max(1)).zip(out.chunks_exact_mut(k.max(1))) {
        for (o, wr) in or.iter_mut().zip(w.chunks_exact(n.max(1))) {
            *o += dot(ar, wr);
        }
    }
}

/// `g += a^T @ b`: `a` is `rows x k`, `b` is `rows x n`, `g` is `k x n`; all row-major.
pub(crate) fn matmul_tn_acc(rows: usize, a: &[f64], b: &[f64], g: &mut [f64]) {
    if rows == 0 {
        return;
    }
    let (k, n) = (a.len() / rows, b.len() / rows);
    if rows >= GEMM_MIN && k >= GEMM_MIN && n >= GEMM_MIN {
        let at = DMatrixView::from_slice_with_strides(a, k, rows, 1, k);
        let bv = DMatrixView::from_slice_with_strides(b, rows, n, n, 1);
        let mut gv = DMatrixViewMut::from_slice_with_strides_mut(g, k, n, n, 1);
        gv.gemm(1.0, &at, &bv, 1.0);
        return;
    }
    for (ar, br) in a.chunks_exact(k.max(1)).zip(b.chunks_exact(n.max(1))) {
        for (&ai, gr) in ar.iter().zip(g.chunks_exact_mut(n.max(1))) {
            for (o, &bv) in gr.iter_mut().zip(br) {
                *o += ai * bv;
            }
        }
    }
}
