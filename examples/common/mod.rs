//! Helpers shared by the examples (progress bars, timing statistics).
#![allow(dead_code)]

use std::time::Duration;

/// A progress bar on stderr (indicatif): drawn only when stderr is a
/// terminal, so captured logs carry no carriage-return frames.
pub struct Progress(indicatif::ProgressBar);

impl Progress {
    pub fn new(label: &str, total: usize) -> Self {
        let bar = indicatif::ProgressBar::new(total.max(1) as u64);
        let style = indicatif::ProgressStyle::with_template(
            "  {msg:<28} [{bar:30}] {pos:>4}/{len:<4} {elapsed:>4}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("#-");
        bar.set_style(style);
        bar.set_message(label.to_string());
        Self(bar)
    }

    pub fn tick(&mut self) {
        self.0.inc(1);
        if self.0.position() >= self.0.length().unwrap_or(0) {
            self.0.finish();
        }
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        0.0
    } else {
        v[v.len() / 2]
    }
}

pub fn p90(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        0.0
    } else {
        v[(v.len() * 9 / 10).min(v.len() - 1)]
    }
}

pub fn kb(b: usize) -> String {
    if b >= 1 << 20 {
        format!("{:.2} MB", b as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} kB", b as f64 / 1024.0)
    }
}
