//! Durations and sizes as people write them (`90m`, `1h30m`, `10MiB`): read
//! by the config (timeouts, lookbacks, alert windows, body limits) and by the
//! report's `--since` window alike.

use std::time::Duration;

/// Parses durations such as `500ms`, `30s`, `90m`, `48h`, `7d`, `2w` or `1h30m`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    let mut rest = compact.as_str();
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let n: u64 = number.parse().ok()?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.checked_mul(60)?),
            "h" => Duration::from_secs(n.checked_mul(3600)?),
            "d" => Duration::from_secs(n.checked_mul(86_400)?),
            "w" => Duration::from_secs(n.checked_mul(7 * 86_400)?),
            _ => return None,
        };
        total = total.checked_add(part)?;
        rest = tail;
    }
    Some(total)
}

/// Parses sizes such as `10MiB`, `512KiB`, `1MB`, `2GB` or plain bytes (`1048576`).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let n: u64 = number.parse().ok()?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" => 1 << 10,
        "mb" => 1_000_000,
        "mib" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let d = |s: &str| parse_duration(s);
        assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(d("30s"), Some(Duration::from_secs(30)));
        assert_eq!(d("90m"), Some(Duration::from_secs(5400)));
        assert_eq!(d("48h"), Some(Duration::from_secs(172_800)));
        assert_eq!(d("7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(d("2w"), Some(Duration::from_secs(1_209_600)));
        assert_eq!(d("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(d(" 1h 30m "), Some(Duration::from_secs(5400)));
        assert_eq!(d("0s"), Some(Duration::ZERO));
        for bad in [
            "",
            "30",
            "h",
            "3x",
            "1.5h",
            "-1h",
            "99999999999999999999d",
            "30 seconds",
        ] {
            assert_eq!(d(bad), None, "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10MiB"), Some(10 * 1024 * 1024));
        assert_eq!(parse_size("512KiB"), Some(512 * 1024));
        assert_eq!(parse_size("1MB"), Some(1_000_000));
        assert_eq!(parse_size("2 gib"), Some(2 << 30));
        assert_eq!(parse_size("1048576"), Some(1_048_576));
        assert_eq!(parse_size("100B"), Some(100));
        for bad in ["", "MiB", "10 MegaBytes", "1.5MiB", "-1", "99999999999GiB"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }
}
