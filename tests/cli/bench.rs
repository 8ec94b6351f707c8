//! `parlab bench bg` is byte-identical to the Benchmarks Game reference
//! output, and `parlab bench kernel` reports what it measured.

use crate::common::parlab;
use parlab::engine::mandelbrot::bench_game::{bitmap, pbm};

/// MD5 (RFC 1321), small and plain: enough to check a published digest.
fn md5_hex(data: &[u8]) -> String {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32)
        .collect();
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    let mut h: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = h;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(k[i])
                .wrapping_add(m[g])
                .rotate_left(S[i]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(rotated);
        }
        h = [
            h[0].wrapping_add(a),
            h[1].wrapping_add(b),
            h[2].wrapping_add(c),
            h[3].wrapping_add(d),
        ];
    }
    h.iter()
        .flat_map(|w| w.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn md5_matches_rfc_1321_examples() {
    assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(
        md5_hex(b"The quick brown fox jumps over the lazy dog"),
        "9e107d9d372bb6826bd81d3542a419d6"
    );
    assert_eq!(md5_hex(&[b'a'; 200]).len(), 32);
}

const REFERENCE_MD5_200: &str = "cc65e64bd553ed18896de1dfe7fae3e5";

#[test]
fn bg_200_has_the_published_md5() {
    assert_eq!(md5_hex(&pbm(200, true)), REFERENCE_MD5_200, "SIMD");
    assert_eq!(md5_hex(&pbm(200, false)), REFERENCE_MD5_200, "scalar");
}

#[test]
fn bg_sizes_that_are_not_multiples_of_8_match_the_scalar_loop() {
    for n in [1, 3, 15, 17, 201, 203, 250] {
        assert_eq!(bitmap(n, true), bitmap(n, false), "n = {n}");
    }
}

#[test]
fn bench_bg_cli_writes_the_reference_bytes() {
    let output = parlab()
        .args(["bench", "bg", "200", "--workers", "2"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(md5_hex(&output.stdout), REFERENCE_MD5_200);
    let output = parlab().args(["bench", "bg", "201"]).output().expect("run");
    assert!(output.status.success());
    assert_eq!(output.stdout, pbm(201, false));
}

#[test]
fn bench_bg_refuses_bad_sizes() {
    for n in ["0", "40000", "abc"] {
        let output = parlab().args(["bench", "bg", n]).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "N = {n}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn bench_kernel_refuses_bad_input() {
    let output = parlab()
        .args(["bench", "kernel", "--views", "B9"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("B9"), "{stderr}");
    let output = parlab()
        .args(["bench", "kernel", "--reps", "0"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn render_accepts_the_simd_kernel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("m.png");
    let output = parlab()
        .args([
            "render", "--width", "64", "--height", "48", "--kernel", "simd",
        ])
        .args(["--workers", "2", "--json", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(summary["kernel"], "simd");
    assert!(out.is_file());
}

#[test]
fn forced_kernels_render_the_same_counts_or_refuse_clearly() {
    use parlab::engine::mandelbrot::kernel::Kernel;
    let dir = tempfile::tempdir().expect("tempdir");
    let counts = |kernel: Kernel| {
        let out = dir.path().join(format!("{kernel}.png"));
        let npy = dir.path().join(format!("{kernel}.npy"));
        let output = parlab()
            .args([
                "render",
                "--width",
                "67",
                "--height",
                "41",
                "--max-iter",
                "300",
            ])
            .args([
                "--workers",
                "2",
                "--tile",
                "16",
                "--json",
                "--kernel",
                kernel.name(),
            ])
            .arg("--out")
            .arg(&out)
            .arg("--counts-out")
            .arg(&npy)
            .output()
            .expect("run");
        if kernel.is_available() {
            assert!(output.status.success(), "{kernel}: {output:?}");
            let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
            assert_eq!(summary["kernel"], kernel.name());
            Some((
                std::fs::read(&npy).expect("npy"),
                std::fs::read(&out).expect("png"),
            ))
        } else {
            assert_eq!(output.status.code(), Some(2), "{kernel}: {output:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains(kernel.name()), "{stderr}");
            assert!(!out.exists() && !npy.exists(), "nothing written");
            None
        }
    };
    let expected = counts(Kernel::Reference).expect("scalar always runs");
    for kernel in [Kernel::Simd, Kernel::Avx2, Kernel::Avx512] {
        if let Some(got) = counts(kernel) {
            assert!(
                got == expected,
                "{kernel}: counts or PNG differ from scalar"
            );
        }
    }
}
