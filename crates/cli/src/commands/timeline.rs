//! `durapipe history --timeline`: the operations of an execution drawn as bars in the terminal,
//! built from its history events (so it works against any Lambda endpoint): one line per
//! operation, indented under its parent, from its first event to its last.

use std::collections::HashMap;
use std::fmt::Write as _;

/// One history event, as much as the timeline needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The operation's id.
    pub id: String,
    /// Its parent's id, if any.
    pub parent_id: Option<String>,
    /// Its name, if any.
    pub name: Option<String>,
    /// e.g. `StepStarted`, `ChainedInvokeSucceeded`.
    pub event_type: String,
    /// Epoch milliseconds.
    pub at_ms: i64,
}

/// One operation's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The operation's id.
    pub id: String,
    /// Its name, or its id when unnamed.
    pub label: String,
    /// `Step`, `Wait`, `Callback`, `ChainedInvoke`, `Context` or `Execution`.
    pub kind: String,
    /// `Started`, `Succeeded`, `Failed`, ... (the suffix of its last event).
    pub status: String,
    /// Nesting depth (0: top level).
    pub depth: usize,
    /// First event, epoch ms.
    pub start_ms: i64,
    /// Last event, epoch ms, if the operation has ended.
    pub end_ms: Option<i64>,
}

const KINDS: [&str; 6] = [
    "ChainedInvoke",
    "Execution",
    "Callback",
    "Context",
    "Step",
    "Wait",
];
const ENDS: [&str; 5] = ["Succeeded", "Failed", "TimedOut", "Stopped", "Cancelled"];

fn split(event_type: &str) -> Option<(&str, &str)> {
    KINDS
        .iter()
        .find_map(|k| event_type.strip_prefix(k).map(|rest| (*k, rest)))
}

/// Folds events (in history order) into operations, in the order they first appear.
pub fn spans(events: &[Event]) -> Vec<Span> {
    let mut order: Vec<String> = Vec::new();
    let mut by_id: HashMap<String, Span> = HashMap::new();
    let mut parents: HashMap<String, Option<String>> = HashMap::new();
    for e in events {
        let Some((kind, what)) = split(&e.event_type) else {
            continue;
        };
        let span = by_id.entry(e.id.clone()).or_insert_with(|| {
            order.push(e.id.clone());
            parents.insert(e.id.clone(), e.parent_id.clone());
            Span {
                id: e.id.clone(),
                label: e.name.clone().unwrap_or_else(|| e.id.clone()),
                kind: kind.to_owned(),
                status: String::new(),
                depth: 0,
                start_ms: e.at_ms,
                end_ms: None,
            }
        });
        span.status = what.to_owned();
        span.end_ms = ENDS.contains(&what).then_some(e.at_ms);
    }
    let depth = |id: &str| {
        let mut d = 0;
        let mut current = parents.get(id).cloned().flatten();
        while let Some(p) = current {
            d += 1;
            if d > 64 {
                break;
            }
            current = parents.get(&p).cloned().flatten();
        }
        d
    };
    order
        .iter()
        .filter_map(|id| {
            let mut s = by_id.remove(id)?;
            // Everything hangs below the execution line (top-level operations have no parent).
            s.depth = depth(id) + usize::from(s.kind != "Execution");
            Some(s)
        })
        .collect()
}

fn duration(ms: i64) -> String {
    match ms {
        ..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{:.2} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// Draws the spans, `width` columns of bar; `now_ms` ends the bars of running operations.
pub fn render(spans: &[Span], width: usize, now_ms: i64) -> String {
    let Some(t0) = spans.iter().map(|s| s.start_ms).min() else {
        return "no operations\n".to_owned();
    };
    let t1 = spans
        .iter()
        .map(|s| s.end_ms.unwrap_or(now_ms).max(s.start_ms))
        .max()
        .unwrap_or(t0);
    let total = (t1 - t0).max(1) as f64;
    let label_width = 48;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<label_width$} {:<13} {:<10} {:>10} {:>10}  timeline (0 to {})",
        "OPERATION",
        "TYPE",
        "STATUS",
        "START",
        "DURATION",
        duration(t1 - t0)
    );
    for s in spans {
        let end = s.end_ms.unwrap_or(now_ms).max(s.start_ms);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (from, to) = (
            (((s.start_ms - t0) as f64 / total) * width as f64).floor() as usize,
            (((end - t0) as f64 / total) * width as f64).ceil() as usize,
        );
        let from = from.min(width.saturating_sub(1));
        let to = to.clamp(from + 1, width);
        let glyph = match (s.kind.as_str(), s.status.as_str()) {
            (_, "Failed" | "TimedOut" | "Stopped") => '!',
            ("Wait", _) => '~',
            (_, "Started") => '>',
            _ => '#',
        };
        let bar: String = (0..width)
            .map(|i| if (from..to).contains(&i) { glyph } else { ' ' })
            .collect();
        let mut label = format!("{}{}", "  ".repeat(s.depth), s.label);
        if label.chars().count() > label_width {
            label = label.chars().take(label_width - 1).collect::<String>() + "…";
        }
        let _ = writeln!(
            out,
            "{label:<label_width$} {:<13} {:<10} {:>10} {:>10} |{bar}|",
            s.kind,
            s.status,
            format!("+{}", duration(s.start_ms - t0)),
            if s.end_ms.is_some() {
                duration(end - s.start_ms)
            } else {
                "running".to_owned()
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, parent: Option<&str>, name: &str, t: &str, at: i64) -> Event {
        Event {
            id: id.into(),
            parent_id: parent.map(Into::into),
            name: Some(name.into()),
            event_type: t.into(),
            at_ms: at,
        }
    }

    #[test]
    fn spans_nest_under_parents_and_end_at_their_last_event() {
        let events = vec![
            ev("x", None, "run", "ExecutionStarted", 0),
            ev("c", None, "record-1", "ContextStarted", 10),
            ev("v", Some("c"), "validate-1", "ChainedInvokeStarted", 20),
            ev("v", Some("c"), "validate-1", "ChainedInvokeSucceeded", 70),
            ev("w", Some("c"), "pause", "WaitStarted", 80),
            ev("i", None, "x", "InvocationCompleted", 85),
        ];
        let s = spans(&events);
        assert_eq!(s.len(), 4, "{s:?}");
        assert_eq!((s[0].kind.as_str(), s[0].depth), ("Execution", 0));
        assert_eq!((s[1].label.as_str(), s[1].depth), ("record-1", 1));
        assert_eq!(s[2].depth, 2);
        assert_eq!(s[2].status, "Succeeded");
        assert_eq!((s[2].start_ms, s[2].end_ms), (20, Some(70)));
        assert_eq!((s[3].status.as_str(), s[3].end_ms), ("Started", None));
        let text = render(&s, 20, 100);
        let line = text.lines().find(|l| l.contains("validate-1")).unwrap();
        assert!(
            line.contains("Succeeded") && line.contains("50 ms"),
            "{line}"
        );
        // 20..70 of 0..100 on 20 columns: columns 4..14 are drawn.
        assert!(line.ends_with("|    ##########      |"), "{line}");
        let wait = text.lines().find(|l| l.contains("pause")).unwrap();
        assert!(wait.contains("running") && wait.contains('~'), "{wait}");
    }
}
