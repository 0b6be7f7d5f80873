use lagc::syntax::parse;
#[test]
fn smoke() {
    let src = "# c\nsystem p { coord theta, phi[N] periodic; param m = 1, g = 9.81; net f = mlp(in: 4, hidden: [1,2], act: softplus);\n L = 0.5*m*theta'^2 - -x^-2^3 + sum(i, phi'[i]^2) + sum(i in 0..4, f(a,b)[1]); }\nsimulate p { init theta = 1, theta' = 0; init = sample(n = 4, seed = 1, a = uniform(0, 2*pi)); t_end = 10; out = \"x.csv\"; set g = 1; }";
    let f = parse(src).unwrap();
    println!("{:#?}", f);
    let e = parse("system p { coord x; L = x'^2 }").unwrap_err();
    println!(
        "{}",
        lagc::diagnostics::render("a.lag", "system p { coord x; L = x'^2 }", &[e])
    );
    for bad in [
        "system p { coord x; L = 1.; }",
        "system p { coord x L = 1; }",
        "system p {",
        "x",
    ] {
        // (An empty file parses; "no system" is the checker's error.)
        let e = parse(bad).map(|_| ()).unwrap_err();
        println!("{}", lagc::diagnostics::render("a.lag", bad, &[e]));
    }
}
