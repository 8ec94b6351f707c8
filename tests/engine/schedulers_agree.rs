//! Every scheduler, at every worker count and granularity, computes the same
//! pixels as the plain serial loop, and its trace is well formed.

use parlab::engine::exec::pool::build_pool;
use parlab::engine::exec::schedule::Schedule;
use parlab::engine::mandelbrot::kernel::Kernel;
use parlab::engine::mandelbrot::render::{RenderSettings, render, render_serial};
use parlab::engine::mandelbrot::tiling::Tiling;
use parlab::engine::mandelbrot::view::View;
use proptest::prelude::*;

const WORKERS: [usize; 5] = [1, 2, 3, 7, 16];
const TILINGS: [Tiling; 5] = [
    Tiling::Square { tile_px: 1 },
    Tiling::Square { tile_px: 7 },
    Tiling::Square { tile_px: 64 },
    Tiling::Square { tile_px: 1024 },
    Tiling::Bands { band_rows: 1 },
];

fn schedules() -> Vec<Schedule> {
    let mut s = Schedule::ALL.to_vec();
    s.push(Schedule::Dynamic { chunk: 4 });
    s.push(Schedule::Guided { min_chunk: 2 });
    s
}

fn check_all(view: View) {
    let serial = render_serial(&view, Kernel::Reference);
    let pools: Vec<_> = WORKERS
        .iter()
        .map(|&n| build_pool(n).expect("pool"))
        .collect();
    for schedule in schedules() {
        for (pool, &n) in pools.iter().zip(&WORKERS) {
            for tiling in TILINGS {
                let settings = RenderSettings {
                    view,
                    tiling,
                    schedule,
                    num_workers: n,
                    kernel: Kernel::Reference,
                    placement: Default::default(),
                };
                let r = render(&settings, Some(pool)).expect("render");
                assert_eq!(r.image, serial, "{schedule} {n} workers {tiling}");
                check_trace(&r, if schedule.uses_pool() { n } else { 1 });
            }
        }
    }
}

fn check_trace(r: &parlab::engine::mandelbrot::render::Rendered, num_workers: usize) {
    let t = &r.trace;
    assert_eq!(t.num_workers as usize, num_workers);
    let mut seen = vec![0u32; r.tiles.len()];
    for rec in &t.records {
        seen[rec.task as usize] += 1;
        assert!((rec.worker as usize) < num_workers);
        assert!(rec.start_nanos <= rec.end_nanos && rec.end_nanos <= t.wall_nanos);
    }
    assert!(seen.iter().all(|&c| c == 1), "each tile exactly once");
    let mut by_worker = t.records.clone();
    by_worker.sort_by_key(|r| (r.worker, r.start_nanos));
    for pair in by_worker.windows(2) {
        if pair[0].worker == pair[1].worker {
            assert!(
                pair[0].end_nanos <= pair[1].start_nanos,
                "overlap on worker {}",
                pair[0].worker
            );
        }
    }
}

#[test]
fn whole_set_small() {
    check_all(View::new((-0.75, 0.0), 3.0, 61, 45, 120).expect("view"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, .. ProptestConfig::default() })]
    #[test]
    fn random_small_views(
        cx in -2.0f64..0.6,
        cy in -1.2f64..1.2,
        log_width in -6.0f64..0.5,
        w in 1u32..48,
        h in 1u32..40,
        max_iter in 1u32..400,
    ) {
        let view = View::new((cx, cy), 10f64.powf(log_width), w, h, max_iter).expect("view");
        check_all(view);
    }
}
