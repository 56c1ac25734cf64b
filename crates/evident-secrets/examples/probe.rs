fn main() {
    let rules = evident_secrets::builtin_rules().unwrap();
    let id = std::env::args().nth(1).unwrap();
    let text = std::env::args().nth(2).unwrap();
    let rule = rules.iter().find(|r| r.check.id == id).unwrap();
    let c = rule.pattern.get().unwrap();
    for caps in c.regex.captures_iter(text.as_bytes()) {
        println!(
            "match {:?} groups {:?}",
            String::from_utf8_lossy(caps.get(0).unwrap().as_bytes()),
            c.secret_groups
        );
        for g in &c.secret_groups {
            println!(
                "  g{g} = {:?}",
                caps.get(*g)
                    .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
            );
        }
    }
    let engine = evident_secrets::Engine::new(rules).unwrap();
    println!("{:?}", engine.scan(text.as_bytes(), Default::default()));
}
