//! Text -> AST with pest. Each `build_*` function names the grammar rule it reads.

use super::ast::*;
use crate::diagnostics::{Diagnostic, Span};
use pest::iterators::Pair;
use pest::Parser as _;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/lag.pest"]
struct LagParser;

type P<'a> = Pair<'a, Rule>;

/// Parses a whole file. A syntax error stops parsing and is returned as one diagnostic.
pub fn parse(src: &str) -> Result<File, Diagnostic> {
    check_nesting(src)?;
    pest::set_error_detail(true);
    let mut pairs = LagParser::parse(Rule::file, src).map_err(|e| syntax_error(src, e))?;
    let file = pairs.next().expect("grammar: file");
    let blocks = file
        .into_inner()
        .filter(|p| p.as_rule() != Rule::EOI)
        .map(build_block)
        .collect();
    Ok(File { blocks })
}

fn span(p: &P) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

fn ident(p: P) -> Ident {
    Ident {
        name: p.as_str().to_string(),
        span: span(&p),
    }
}

// block = _{ system | simulate | train }
fn build_block(p: P) -> Block {
    let sp = span(&p);
    match p.as_rule() {
        Rule::system => {
            let mut it = p.into_inner();
            it.next(); // kw_system
            let name = ident(it.next().expect("system name"));
            Block::System(System {
                name,
                items: it.map(build_item).collect(),
                span: sp,
            })
        }
        rule => {
            let kind = if rule == Rule::train {
                RunKind::Train
            } else {
                RunKind::Simulate
            };
            let mut it = p.into_inner();
            it.next(); // keyword
            let system = ident(it.next().expect("run block system"));
            Block::Run(RunBlock {
                kind,
                system,
                settings: it.map(build_setting).collect(),
                span: sp,
            })
        }
    }
}

// item = _{ coord_decl | momentum_decl | param_decl | ... }
fn build_item(p: P) -> Item {
    let rule = p.as_rule();
    let sp = span(&p);
    let mut it = p.into_inner();
    let kw = it.next().expect("item keyword");
    let kw_span = span(&kw);
    match rule {
        Rule::coord_decl => Item::Coord(it.map(build_coord_item).collect()),
        Rule::momentum_decl => Item::Momentum(it.map(ident).collect()),
        Rule::param_decl => Item::Param(it.map(build_binding).collect()),
        Rule::learn_decl => Item::Learn(it.map(build_binding).collect()),
        Rule::input_decl => Item::Input(it.map(ident).collect(), kw_span),
        Rule::let_decl => Item::Let(it.map(build_binding).collect()),
        Rule::net_decl => {
            let name = ident(it.next().expect("net name"));
            it.next(); // kw_mlp
            Item::Net(NetDecl {
                name,
                opts: it.map(build_net_opt).collect(),
                span: sp,
            })
        }
        Rule::lagrangian => Item::Lagrangian(build_expr(it.next().expect("L expr")), kw_span),
        Rule::hamiltonian => Item::Hamiltonian(build_expr(it.next().expect("H expr")), kw_span),
        Rule::accel_decl => Item::Accel(it.map(build_target_binding).collect(), kw_span),
        Rule::dissipation_decl => {
            Item::Dissipation(build_expr(it.next().expect("D expr")), kw_span)
        }
        Rule::force_decl => Item::Force(it.map(build_target_binding).collect()),
        Rule::event_decl => {
            let name = ident(it.next().expect("event name"));
            let lhs = build_expr(it.next().expect("guard lhs"));
            let falling = it.next().expect("guard op").as_str().starts_with('<');
            let rhs = build_expr(it.next().expect("guard rhs"));
            Item::Event(EventDecl {
                name,
                lhs,
                falling,
                rhs,
                resets: it.map(build_target_binding).collect(),
                span: sp,
            })
        }
        Rule::constraint_decl => {
            let name = ident(it.next().expect("constraint name"));
            Item::Constraint(name, build_expr(it.next().expect("constraint expr")), sp)
        }
        r => unreachable!("grammar: unexpected item {r:?}"),
    }
}

// coord_item = { ident ~ ("[" ~ expr ~ "]")? ~ periodic? }
fn build_coord_item(p: P) -> CoordItem {
    let mut it = p.into_inner();
    let name = ident(it.next().expect("coord name"));
    let mut item = CoordItem {
        name,
        len: None,
        periodic: false,
    };
    for q in it {
        match q.as_rule() {
            Rule::expr => item.len = Some(build_expr(q)),
            _ => item.periodic = true,
        }
    }
    item
}

// binding = { ident ~ "=" ~ expr }
fn build_binding(p: P) -> Binding {
    let mut it = p.into_inner();
    let name = ident(it.next().expect("binding name"));
    Binding {
        name,
        value: build_expr(it.next().expect("binding value")),
    }
}

// net_opt = { ident ~ ":" ~ (list | expr) }
fn build_net_opt(p: P) -> NetOpt {
    let mut it = p.into_inner();
    let key = ident(it.next().expect("option name"));
    let v = it.next().expect("option value");
    let value = match v.as_rule() {
        Rule::list => {
            let sp = span(&v);
            NetOptValue::List(v.into_inner().map(build_expr).collect(), sp)
        }
        _ => NetOptValue::Expr(build_expr(v)),
    };
    NetOpt { key, value }
}

// target_binding = { target ~ "=" ~ expr }
fn build_target_binding(p: P) -> TargetBinding {
    let mut it = p.into_inner();
    let target = build_target(it.next().expect("target"));
    TargetBinding {
        target,
        value: build_expr(it.next().expect("target value")),
    }
}

// target = { ident ~ primes? ~ ("[" ~ expr ~ "]")? }
fn build_target(p: P) -> Target {
    let sp = span(&p);
    let mut it = p.into_inner();
    let name = ident(it.next().expect("target name"));
    let mut t = Target {
        name,
        primes: 0,
        index: None,
        span: sp,
    };
    for q in it {
        match q.as_rule() {
            Rule::primes => t.primes = prime_count(&q),
            _ => t.index = Some(build_expr(q)),
        }
    }
    t
}

fn prime_count(p: &P) -> u8 {
    p.as_str().len().min(u8::MAX as usize) as u8
}

// setting = _{ init_from | init_values | set_params | key_setting }
fn build_setting(p: P) -> Setting {
    let rule = p.as_rule();
    let sp = span(&p);
    let mut it = p.into_inner();
    match rule {
        Rule::init_from => {
            it.next();
            Setting::InitFrom(build_value(it.next().expect("init value")), sp)
        }
        Rule::init_values => {
            it.next();
            Setting::InitValues(it.map(build_target_binding).collect(), sp)
        }
        Rule::set_params => {
            it.next();
            Setting::Set(it.map(build_binding).collect())
        }
        _ => {
            let key = ident(it.next().expect("setting key"));
            Setting::Key(key, build_value(it.next().expect("setting value")))
        }
    }
}

// value = { string | sample | list | expr }
fn build_value(p: P) -> Value {
    let v = p.into_inner().next().expect("value");
    match v.as_rule() {
        Rule::string => {
            let sp = span(&v);
            let body = v.into_inner().next().map_or("", |b| b.as_str());
            Value::Str(body.to_string(), sp)
        }
        Rule::sample => {
            let sp = span(&v);
            let mut s = Sample {
                positional: vec![],
                named: vec![],
                span: sp,
            };
            for arg in v.into_inner().skip(1) {
                let a = arg.into_inner().next().expect("sample arg");
                match a.as_rule() {
                    Rule::ident => s.positional.push(ident(a)),
                    _ => s.named.push(build_target_binding(a)),
                }
            }
            Value::Sample(s)
        }
        Rule::list => {
            let sp = span(&v);
            Value::List(v.into_inner().map(build_expr).collect(), sp)
        }
        _ => Value::Expr(build_expr(v)),
    }
}

// expr = { term ~ (add_op ~ term)* }   term = { unary ~ (mul_op ~ unary)* }
fn build_expr(p: P) -> Expr {
    match p.as_rule() {
        Rule::expr | Rule::term => {
            let mut it = p.into_inner();
            let mut lhs = build_expr(it.next().expect("operand"));
            while let Some(op) = it.next() {
                let rhs = build_expr(it.next().expect("operand"));
                let op = match op.as_str() {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    _ => BinOp::Div,
                };
                let sp = lhs.span.join(rhs.span);
                lhs = Expr {
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                    span: sp,
                };
            }
            lhs
        }
        // unary = { neg* ~ power }
        Rule::unary => {
            let sp = span(&p);
            let parts: Vec<P> = p.into_inner().collect();
            let (negs, rest) = parts.split_at(parts.len() - 1);
            let mut e = build_expr(rest[0].clone());
            for n in negs.iter().rev() {
                let s = Span::new(span(n).start, sp.end);
                e = Expr {
                    kind: ExprKind::Neg(Box::new(e)),
                    span: s,
                };
            }
            e
        }
        // power = { primary ~ ("^" ~ unary)? }
        Rule::power => {
            let sp = span(&p);
            let mut it = p.into_inner();
            let base = build_expr(it.next().expect("base"));
            match it.next() {
                None => base,
                Some(exp) => Expr {
                    kind: ExprKind::Binary(BinOp::Pow, Box::new(base), Box::new(build_expr(exp))),
                    span: sp,
                },
            }
        }
        Rule::number => {
            let sp = span(&p);
            Expr {
                kind: ExprKind::Num(p.as_str().parse().unwrap_or(f64::NAN)),
                span: sp,
            }
        }
        // sum = { kw_sum ~ "(" ~ ident ~ (kw_in ~ expr ~ ".." ~ expr)? ~ "," ~ expr ~ ")" }
        Rule::sum => {
            let sp = span(&p);
            let mut it = p.into_inner().skip(1);
            let var = ident(it.next().expect("sum index"));
            let rest: Vec<P> = it.filter(|q| q.as_rule() != Rule::kw_in).collect();
            let (range, body) = match rest.len() {
                3 => {
                    let mut r = rest.into_iter().map(build_expr);
                    let lo = r.next().expect("lo");
                    let hi = r.next().expect("hi");
                    (Some((Box::new(lo), Box::new(hi))), r.next().expect("body"))
                }
                _ => (None, build_expr(rest.into_iter().next().expect("body"))),
            };
            Expr {
                kind: ExprKind::Sum {
                    var,
                    range,
                    body: Box::new(body),
                },
                span: sp,
            }
        }
        // call = { ident ~ "(" ~ args ~ ")" ~ index? }
        Rule::call => {
            let sp = span(&p);
            let mut it = p.into_inner();
            let name = ident(it.next().expect("callee"));
            let mut args = Vec::new();
            let mut index = None;
            for q in it {
                match q.as_rule() {
                    Rule::index => index = Some(Box::new(build_index(q))),
                    _ => args.push(build_expr(q)),
                }
            }
            Expr {
                kind: ExprKind::Call { name, args, index },
                span: sp,
            }
        }
        // var = { ident ~ primes? ~ index? }
        Rule::var => {
            let sp = span(&p);
            let mut it = p.into_inner();
            let name = ident(it.next().expect("name"));
            let mut primes = 0;
            let mut index = None;
            for q in it {
                match q.as_rule() {
                    Rule::primes => primes = prime_count(&q),
                    _ => index = Some(Box::new(build_index(q))),
                }
            }
            Expr {
                kind: ExprKind::Var {
                    name,
                    primes,
                    index,
                },
                span: sp,
            }
        }
        r => unreachable!("grammar: unexpected expression rule {r:?}"),
    }
}

// index = { "[" ~ expr ~ "]" }
fn build_index(p: P) -> Expr {
    build_expr(p.into_inner().next().expect("index expr"))
}

/// Human words for the grammar's rules, used in "expected ..." messages.
fn rule_words(r: &Rule) -> Option<&'static str> {
    Some(match r {
        Rule::EOI => "end of file",
        Rule::ident | Rule::target => "a name",
        Rule::number => "a number",
        Rule::string => "a quoted file name",
        Rule::primes => "`'`",
        Rule::kw_system => "`system`",
        Rule::kw_simulate => "`simulate`",
        Rule::kw_train => "`train`",
        Rule::kw_periodic => "`periodic`",
        Rule::kw_in => "`in`",
        Rule::kw_mlp => "`mlp`",
        Rule::system | Rule::simulate | Rule::train => "`system`, `simulate` or `train`",
        Rule::coord_decl
        | Rule::momentum_decl
        | Rule::param_decl
        | Rule::learn_decl
        | Rule::input_decl
        | Rule::let_decl
        | Rule::net_decl
        | Rule::lagrangian
        | Rule::hamiltonian
        | Rule::accel_decl
        | Rule::dissipation_decl
        | Rule::force_decl
        | Rule::constraint_decl
        | Rule::event_decl => "a declaration (coord, momentum, param, learn, input, let, net, L, H, accel, dissipation, force, constraint, event)",
        Rule::rel_op => "`<=`, `>=`, `<` or `>`",
        Rule::init_from | Rule::init_values | Rule::set_params | Rule::key_setting => "a setting (`init ...;`, `set ...;` or `name = value;`)",
        Rule::expr | Rule::term | Rule::unary | Rule::power | Rule::sum | Rule::call | Rule::var => "an expression",
        Rule::neg => "`-`",
        Rule::list => "a list `[...]`",
        Rule::index => "`[`",
        Rule::value | Rule::sample => "a value",
        Rule::net_opt => "a net option (`in: 4`)",
        Rule::binding | Rule::target_binding => "`name = value`",
        Rule::sample_arg => "a sample argument",
        Rule::coord_item => "a coordinate name",
        _ => return None,
    })
}

fn syntax_error(src: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    if let Some(d) = lexical_error(src, pos) {
        return d;
    }
    let end = src[pos..]
        .chars()
        .next()
        .map_or(pos, |c| pos + c.len_utf8());
    let found = match src[pos..].chars().next() {
        None => "end of file".to_string(),
        Some(c) if c.is_whitespace() => "whitespace".to_string(),
        Some(_) => {
            let word: String = src[pos..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .take(12)
                .collect();
            format!("`{word}`")
        }
    };
    let mut words: Vec<String> = Vec::new();
    if let Some(attempts) = e.parse_attempts() {
        for t in attempts.expected_tokens() {
            // Only literal punctuation is worth naming; ParsingToken is not re-exported.
            let token = t.to_string();
            let trivia = token.trim().is_empty()
                || ["'", "#", "//", ".", "e", "E"].contains(&token.as_str());
            if format!("{t:?}").starts_with("Sensitive") && !trivia {
                words.push(format!("`{token}`"));
            }
        }
    }
    match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            words.extend(positives.iter().filter_map(rule_words).map(str::to_string))
        }
        ErrorVariant::CustomError { message } => words.push(message.clone()),
    }
    let mut seen: Vec<&str> = Vec::new();
    for w in &words {
        if !seen.contains(&w.as_str()) {
            seen.push(w);
        }
    }
    let expected = join_or(&seen);
    let expected = if expected.is_empty() {
        "something else".to_string()
    } else {
        expected
    };
    if let Some(d) = misspelled_keyword(src, pos, &seen, &expected, &found) {
        return d;
    }
    // A missing `;` (or `}`) is noticed only at the next token, often on the next
    // line: point just after the last token instead, where it belongs.
    let prev = last_token_end(src, pos);
    let missing_end = seen.contains(&"`;`") || seen.contains(&"`}`");
    if prev < pos && (found == "end of file" || (missing_end && src[prev..pos].contains('\n'))) {
        let (line, col) = crate::diagnostics::line_col(src, pos);
        let before = if found == "end of file" {
            "before the end of the file".to_string()
        } else {
            format!("before {found} at {line}:{col}")
        };
        return Diagnostic::error(
            Span::new(prev, prev),
            format!("syntax error: unexpected {found}"),
        )
        .with_label(format!("expected {expected} here, {before}"));
    }
    Diagnostic::error(
        Span::new(pos, end),
        format!("syntax error: unexpected {found}"),
    )
    .with_label(format!("expected {expected}"))
}

/// A word at `pos` that is a likely typo of an expected keyword (`cord` for `coord`):
/// the error points at the word and suggests the keyword.
fn misspelled_keyword(
    src: &str,
    pos: usize,
    expected: &[&str],
    expected_text: &str,
    found: &str,
) -> Option<Diagnostic> {
    let word: String = src[pos..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let keywords = expected
        .iter()
        .map(|w| w.trim_matches('`'))
        .filter(|w| w.len() > 1 && w.chars().all(char::is_alphabetic));
    let keyword = crate::diagnostics::closest(&word, keywords)?;
    Some(
        Diagnostic::error(
            Span::new(pos, pos + word.len()),
            format!("syntax error: unexpected {found}"),
        )
        .with_label(format!("expected {expected_text}"))
        .with_note(format!("did you mean `{keyword}`?")),
    )
}

/// The end of the last token (not whitespace, not a comment) that starts before `pos`.
fn last_token_end(src: &str, pos: usize) -> usize {
    let mut end = 0;
    let mut chars = src[..pos].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let comment = c == '#' || (c == '/' && chars.peek().is_some_and(|&(_, d)| d == '/'));
        if comment {
            while chars.next_if(|&(_, d)| d != '\n').is_some() {}
        } else if c == '"' {
            let mut last = i + 1;
            while let Some((j, d)) = chars.next_if(|&(_, d)| d != '\n') {
                last = j + d.len_utf8();
                if d == '"' {
                    break;
                }
            }
            end = last;
        } else if !c.is_whitespace() {
            end = i + c.len_utf8();
        }
    }
    end
}

/// A malformed number or an unterminated string at or just before `pos`, the place
/// where the parser gave up: these get a message of their own.
fn lexical_error(src: &str, pos: usize) -> Option<Diagnostic> {
    let bytes = src.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() && i <= pos {
        let b = bytes[i];
        if b == b'#' || (b == b'/' && bytes.get(i + 1) == Some(&b'/')) {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if b == b'"' {
            let close = bytes[i + 1..]
                .iter()
                .position(|&c| c == b'"' || c == b'\n')
                .map(|k| i + 1 + k);
            match close {
                Some(k) if bytes[k] == b'"' => i = k + 1,
                _ => {
                    let line_end = close.unwrap_or(bytes.len());
                    if pos < i || pos > line_end {
                        i = line_end;
                        continue;
                    }
                    return Some(
                        Diagnostic::error(Span::new(i, i + 1), "unterminated string")
                            .with_label("expected a closing `\"` on the same line"),
                    );
                }
            }
            continue;
        }
        let prev_ok = i == 0 || !(is_ident(bytes[i - 1]) || bytes[i - 1] == b'.');
        let starts_number =
            b.is_ascii_digit() || (b == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if !(prev_ok && starts_number) {
            i += 1;
            continue;
        }
        let start = i;
        let digits = |mut j: usize| {
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            j
        };
        let mut j = digits(i);
        let mut problem = None;
        if bytes.get(j) == Some(&b'.') && bytes.get(j + 1) != Some(&b'.') {
            if bytes.get(j + 1).is_some_and(u8::is_ascii_digit) {
                j = digits(j + 1);
            } else {
                j += 1;
                problem =
                    Some("expected a digit after the decimal point (write `1` or `1.0`, not `1.`)");
            }
        }
        if problem.is_none() && matches!(bytes.get(j), Some(b'e' | b'E')) {
            let mut k = j + 1;
            if matches!(bytes.get(k), Some(b'+' | b'-')) {
                k += 1;
            }
            if bytes.get(k).is_some_and(u8::is_ascii_digit) {
                j = digits(k);
            } else {
                j = k;
                problem = Some("expected digits after the exponent, e.g. `1e-3`");
            }
        }
        if problem.is_none() && bytes.get(j).is_some_and(|&c| is_ident(c)) {
            problem = Some("expected an operator between a number and a name, e.g. `2*x`");
            while j < bytes.len() && is_ident(bytes[j]) {
                j += 1;
            }
        }
        match problem {
            Some(label) if start <= pos && pos <= j => {
                return Some(
                    Diagnostic::error(
                        Span::new(start, j),
                        format!("bad number `{}`", &src[start..j]),
                    )
                    .with_label(label),
                )
            }
            _ => i = j.max(i + 1),
        }
    }
    None
}

fn join_or(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [a] => a.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Deepest nesting of brackets, `^` and unary `-` accepted in one statement.
pub const MAX_NESTING: usize = 200;

/// Most binary operators accepted in one statement. A chain `a + b + c + ...` is a
/// left-nested tree as deep as it is long, and the checker and the derivation recurse
/// along it: 100,000 terms check, derive and compile in about two seconds; 500,000
/// would overflow the stack.
pub const MAX_OPERATORS: usize = 100_000;

/// Rejects statements nested deeper than [`MAX_NESTING`], or with more than
/// [`MAX_OPERATORS`] binary operators, before parsing, so that no later stage recurses
/// without bound.
fn check_nesting(src: &str) -> Result<(), Diagnostic> {
    let mut depth = 0usize;
    let mut chain = 0usize;
    let mut ops = 0usize;
    // The chain of `^` and unary `-` at the start of each open bracket: a binary `+`,
    // `-`, `*` or `/` ends the chain of its operand, so `a^2 + b^2 + ...` stays shallow.
    let mut base = 0usize;
    let mut saved: Vec<usize> = vec![];
    let mut prev = ';';
    let mut chars = src.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' => {
                while chars.peek().is_some_and(|&(_, c)| c != '\n') {
                    chars.next();
                }
                continue;
            }
            '/' if chars.peek().is_some_and(|&(_, c)| c == '/') => {
                while chars.peek().is_some_and(|&(_, c)| c != '\n') {
                    chars.next();
                }
                continue;
            }
            '"' => {
                while chars.next_if(|&(_, c)| c != '"' && c != '\n').is_some() {}
                chars.next_if(|&(_, c)| c == '"');
            }
            '(' | '[' => {
                depth += 1;
                saved.push(base);
                base = chain;
            }
            ')' | ']' => {
                depth = depth.saturating_sub(1);
                chain = base;
                base = saved.pop().unwrap_or(0);
            }
            '^' => chain += 1,
            '-' if "(=,^*/+-[".contains(prev) => chain += 1,
            '+' | '-' | '*' | '/' => {
                ops += 1;
                chain = base;
            }
            ';' | '{' | '}' => {
                depth = 0;
                chain = 0;
                ops = 0;
                base = 0;
                saved.clear();
            }
            _ => {}
        }
        if ops > MAX_OPERATORS {
            return Err(
                Diagnostic::error(Span::new(i, i + c.len_utf8()), "statement too long").with_label(
                    format!("expected at most {MAX_OPERATORS} operators in one statement"),
                ),
            );
        }
        if !c.is_whitespace() {
            prev = c;
        }
        if depth + chain > MAX_NESTING {
            return Err(Diagnostic::error(
                Span::new(i, i + c.len_utf8()),
                "expression nested too deeply",
            )
            .with_label(format!(
                "expected at most {MAX_NESTING} levels of brackets, `^` and unary `-` in one statement"
            )));
        }
    }
    Ok(())
}
