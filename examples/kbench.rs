fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let which: String = std::env::args().nth(2).unwrap_or_default();
    let views: Vec<_> = parlab::engine::kernel_bench::bench_views()
        .into_iter()
        .filter(|v| which.is_empty() || which.contains(v.name))
        .collect();
    let r = parlab::engine::kernel_bench::run(runs, &views, |s| eprintln!("{s}"));
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
}
