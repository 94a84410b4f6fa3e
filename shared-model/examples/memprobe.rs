use automerge::AutoCommit;
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}
fn main() {
    let bytes = std::fs::read("/tmp/j300.bin").unwrap();
    let before = rss();
    let mut docs = vec![];
    for _ in 0..100 {
        docs.push(AutoCommit::load(&bytes).unwrap());
    }
    let after = rss();
    let t = std::time::Instant::now();
    let c: Vec<AutoCommit> = docs.iter().take(20).cloned().collect();
    println!(
        "saved {} bytes; in memory {} KiB per doc; clone {:?} per doc",
        bytes.len(),
        (after - before) / 100,
        t.elapsed() / 20
    );
    drop(c);
    let t = std::time::Instant::now();
    for _ in 0..20 {
        let _ = AutoCommit::load(&bytes).unwrap();
    }
    println!("load {:?}", t.elapsed() / 20);
}
