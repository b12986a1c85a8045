//! Progress display of long stages: a spinner on the running model, one line per finished one.

pub use lake_bench::stats::group_digits;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use lake_core::ModelEvent;

pub struct StageProgress {
    bar: ProgressBar,
    stage: &'static str,
}

impl StageProgress {
    pub fn new(stage: &'static str) -> Self {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Self { bar, stage }
    }

    pub fn on_event(&self, event: ModelEvent<'_>) {
        match event {
            ModelEvent::Started {
                model,
                index,
                total,
            } => self.bar.set_message(format!(
                "{} {}/{}: {}",
                self.stage,
                index + 1,
                total,
                model.qualified_name()
            )),
            ModelEvent::Finished {
                model,
                rows,
                seconds,
            } => {
                let what = match rows {
                    Some(rows) => format!("{} rows", group_digits(rows)),
                    None => "view".to_string(),
                };
                let line = format!(
                    "  {:<32} {:>16} {:>8.2} s",
                    model.qualified_name(),
                    what,
                    seconds
                );
                self.line(line);
            }
            ModelEvent::Carried {
                model,
                rows,
                from_run,
            } => self.line(format!(
                "  {:<32} {:>16} carried from run {from_run}",
                model.qualified_name(),
                format!("{} rows", group_digits(rows)),
            )),
        }
    }

    fn line(&self, line: String) {
        // Without a terminal the bar is hidden: print plain lines for logs.
        if self.bar.is_hidden() {
            crate::report::say!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// 1234567 → "1 234 567".
/// `0.4 s ago`, `12 s ago`, `3 min ago`.
pub fn format_ago(elapsed: std::time::Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    if seconds < 10.0 {
        format!("{seconds:.1} s ago")
    } else if seconds < 120.0 {
        format!("{seconds:.0} s ago")
    } else {
        format!("{:.0} min ago", seconds / 60.0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits_grouped_by_three() {
        assert_eq!(super::group_digits(0), "0");
        assert_eq!(super::group_digits(999), "999");
        assert_eq!(super::group_digits(1_000), "1 000");
        assert_eq!(super::group_digits(1_234_567), "1 234 567");
    }
}
