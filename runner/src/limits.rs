//! What holds a runaway job: a memory limit per store, a wall-clock limit, and stopping on
//! SIGTERM or SIGINT. Each way of stopping has its own message and exit status.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use wasmtime::ResourceLimiter;

/// Why a job was stopped before it ended by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Past its wall-clock limit.
    TimeLimit,
    /// The runner received SIGTERM.
    Terminated,
    /// The runner received SIGINT (Ctrl-C).
    Interrupted,
}

impl Stop {
    /// The runner's exit status: as `timeout(1)` for the time limit, 128 + the signal's
    /// number for a signal, as a shell reports a process a signal ended.
    pub fn exit_status(self) -> u8 {
        match self {
            Stop::TimeLimit => 124,
            Stop::Terminated => 128 + 15,
            Stop::Interrupted => 128 + 2,
        }
    }

    fn code(self) -> u8 {
        match self {
            Stop::TimeLimit => 1,
            Stop::Terminated => 2,
            Stop::Interrupted => 3,
        }
    }

    fn from_code(code: u8) -> Option<Stop> {
        match code {
            1 => Some(Stop::TimeLimit),
            2 => Some(Stop::Terminated),
            3 => Some(Stop::Interrupted),
            _ => None,
        }
    }
}

/// The exit status of a job stopped at its memory limit.
pub const MEMORY_LIMIT_STATUS: u8 = 3;

/// The first reason a run was stopped for, shared by the thread that stops it and the run.
#[derive(Clone, Default)]
pub struct StopReason(Arc<AtomicU8>);

impl StopReason {
    /// Records `stop` unless a reason is already recorded; true when this one is recorded.
    pub fn set(&self, stop: Stop) -> bool {
        self.0
            .compare_exchange(0, stop.code(), Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    pub fn get(&self) -> Option<Stop> {
        Stop::from_code(self.0.load(Ordering::SeqCst))
    }
}

/// A store's memory budget: the sum of its linear memories and tables (a table element
/// counted as a pointer). Growing past it fails with a trap, and the store remembers that
/// this was the reason.
pub struct MemoryBudget {
    limit: usize,
    used: usize,
    exceeded: bool,
}

impl MemoryBudget {
    pub fn new(limit: usize) -> Self {
        MemoryBudget {
            limit,
            used: 0,
            exceeded: false,
        }
    }

    /// The most bytes the store may use.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether the store tried to grow past its limit.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    fn grow(&mut self, current: usize, desired: usize) -> wasmtime::Result<bool> {
        let after = self.used.saturating_sub(current).saturating_add(desired);
        if after > self.limit {
            self.exceeded = true;
            return Err(wasmtime::format_err!(
                "the memory limit of {} is reached",
                Size(self.limit)
            ));
        }
        self.used = after;
        Ok(true)
    }
}

impl ResourceLimiter for MemoryBudget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(current, desired)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let slot = std::mem::size_of::<usize>();
        self.grow(current.saturating_mul(slot), desired.saturating_mul(slot))
    }
}

/// A size in bytes, shown in the unit it was most likely given in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size(pub usize);

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const UNITS: [(usize, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
        for (unit, name) in UNITS {
            if self.0 >= unit && self.0 % unit == 0 {
                return write!(f, "{} {name}", self.0 / unit);
            }
        }
        write!(f, "{} bytes", self.0)
    }
}

impl std::str::FromStr for Size {
    type Err = String;

    /// `512M`, `512MiB`, `2G`, `64k`, or a number of bytes; units are powers of 1024.
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let bad = || {
            format!(
                "`{text}` is not a size: give a number with K, M or G (powers of 1024), e.g. 512M"
            )
        };
        let number: usize = number.parse().map_err(|_| bad())?;
        let scale: usize = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            _ => return Err(bad()),
        };
        let bytes = number.checked_mul(scale).ok_or_else(bad)?;
        if bytes < 1 << 20 {
            return Err(format!(
                "a memory limit of `{text}` is too small for any component; give at least 1M"
            ));
        }
        Ok(Size(bytes))
    }
}

/// A wall-clock duration: `90s`, `10m`, `2h`, `1h30m`, or a number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit(pub Duration);

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = self.0.as_secs();
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
        let millis = self.0.subsec_millis();
        let mut out = String::new();
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if m > 0 {
            out.push_str(&format!("{m}m"));
        }
        if s > 0 || millis > 0 || out.is_empty() {
            if millis > 0 {
                out.push_str(&format!("{s}.{millis:03}s"));
            } else {
                out.push_str(&format!("{s}s"));
            }
        }
        f.write_str(&out)
    }
}

impl std::str::FromStr for Limit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad =
            || format!("`{text}` is not a duration: give e.g. 90s, 10m, 2h or 1h30m (or seconds)");
        let text = text.trim();
        if text.is_empty() {
            return Err(bad());
        }
        if let Ok(seconds) = text.parse::<f64>() {
            return positive(
                Duration::try_from_secs_f64(seconds).map_err(|_| bad())?,
                text,
            );
        }
        let mut total = Duration::ZERO;
        let mut rest = text;
        while !rest.is_empty() {
            let split = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(bad)?;
            let (number, after) = rest.split_at(split);
            let unit_end = after
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(after.len());
            let (unit, next) = after.split_at(unit_end);
            let number: f64 = number.parse().map_err(|_| bad())?;
            let seconds = match unit {
                "ms" => number / 1000.0,
                "s" => number,
                "m" | "min" => number * 60.0,
                "h" => number * 3600.0,
                _ => return Err(bad()),
            };
            total += Duration::try_from_secs_f64(seconds).map_err(|_| bad())?;
            rest = next;
        }
        positive(total, text)
    }
}

fn positive(duration: Duration, text: &str) -> Result<Limit, String> {
    if duration.is_zero() {
        Err(format!(
            "a time limit of `{text}` would stop every job at once; give more than 0"
        ))
    } else {
        Ok(Limit(duration))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!("512M".parse::<Size>(), Ok(Size(512 << 20)));
        assert_eq!("512MiB".parse::<Size>(), Ok(Size(512 << 20)));
        assert_eq!("2g".parse::<Size>(), Ok(Size(2 << 30)));
        assert_eq!("1048576".parse::<Size>(), Ok(Size(1 << 20)));
        assert!("12X".parse::<Size>().unwrap_err().contains("not a size"));
        assert!("10k".parse::<Size>().unwrap_err().contains("too small"));
        assert_eq!(Size(512 << 20).to_string(), "512 MiB");
        assert_eq!(Size(3 << 30).to_string(), "3 GiB");
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!("90".parse::<Limit>(), Ok(Limit(Duration::from_secs(90))));
        assert_eq!("10m".parse::<Limit>(), Ok(Limit(Duration::from_secs(600))));
        assert_eq!(
            "1h30m".parse::<Limit>(),
            Ok(Limit(Duration::from_secs(5400)))
        );
        assert_eq!(
            "1.5s".parse::<Limit>(),
            Ok(Limit(Duration::from_millis(1500)))
        );
        assert_eq!(
            "500ms".parse::<Limit>(),
            Ok(Limit(Duration::from_millis(500)))
        );
        assert!("0".parse::<Limit>().unwrap_err().contains("more than 0"));
        assert!(
            "ten"
                .parse::<Limit>()
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(
            "10x"
                .parse::<Limit>()
                .unwrap_err()
                .contains("not a duration")
        );
        assert_eq!(Limit(Duration::from_secs(5400)).to_string(), "1h30m");
        assert_eq!(Limit(Duration::from_millis(1500)).to_string(), "1.500s");
    }

    #[test]
    fn the_budget_counts_every_memory_of_a_store_together() {
        let mut budget = MemoryBudget::new(10 << 20);
        assert!(budget.memory_growing(0, 6 << 20, None).unwrap());
        assert!(budget.memory_growing(0, 3 << 20, None).unwrap());
        // The first memory grows by 2 MiB more: 11 MiB in all.
        assert!(budget.memory_growing(6 << 20, 8 << 20, None).is_err());
        assert!(budget.exceeded());
    }

    #[test]
    fn the_first_reason_to_stop_is_kept() {
        let reason = StopReason::default();
        assert_eq!(reason.get(), None);
        assert!(reason.set(Stop::TimeLimit));
        assert!(!reason.set(Stop::Terminated));
        assert_eq!(reason.get(), Some(Stop::TimeLimit));
    }
}
