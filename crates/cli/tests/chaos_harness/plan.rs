//! The messages a chaos run sends, and a tiny seeded PRNG so a run can be repeated.
//!
//! Every unique valid message carries its index in `data_source`, so an item found in the table
//! can be traced to the send that produced it even when its message id was never acknowledged.
//! Duplicates are byte-identical bodies sent several times: each send is its own message and
//! must give its own item.

/// SplitMix64: small, seedable, good enough to pick kill moments and message kinds.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (milliseconds, counts).
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// What a planned message is expected to become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Stored once per send; `data_source` identifies it (shared by a duplicate group).
    Valid {
        /// The body's `data_source`.
        data_source: String,
    },
    /// Dead-lettered with a `ValidationError` whose message contains `reason`.
    Invalid {
        /// A substring of the expected `DurapipeLastError`.
        reason: &'static str,
    },
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The exact body.
    pub body: String,
    /// What it must become.
    pub expect: Expect,
}

/// How many times each duplicate body is sent.
pub const DUPLICATE_COPIES: usize = 4;

/// `n` messages: of every 20, 14 unique valid, 4 invalid (five kinds in turn) and 2 copies of
/// a duplicated body (each duplicated body is sent [`DUPLICATE_COPIES`] times overall).
pub fn plan(n: usize, run: u64) -> Vec<Planned> {
    let mut out = Vec::with_capacity(n);
    let mut duplicates = 0usize;
    let mut invalids = 0usize;
    for i in 0..n {
        let slot = i % 20;
        let planned = if slot < 14 {
            let data_source = format!("chaos/{run}/{i}.csv");
            Planned {
                body: format!(
                    r#"{{"data_source":"{data_source}","processing_type":"standard","chaos_seq":{i}}}"#
                ),
                expect: Expect::Valid { data_source },
            }
        } else if slot < 18 {
            invalids += 1;
            invalid(i, invalids % 5)
        } else {
            let group = duplicates / DUPLICATE_COPIES;
            duplicates += 1;
            let data_source = format!("chaos/{run}/duplicate-{group}.csv");
            Planned {
                body: format!(r#"{{"data_source":"{data_source}","processing_type":"standard"}}"#),
                expect: Expect::Valid { data_source },
            }
        };
        out.push(planned);
    }
    out
}

fn invalid(i: usize, kind: usize) -> Planned {
    let (body, reason) = match kind {
        0 => (format!("not json {i}"), "`body` is not valid JSON"),
        1 => (
            format!(r#"{{"data_source":"   ","processing_type":"standard","chaos_seq":{i}}}"#),
            "`data_source` is blank",
        ),
        2 => (
            format!(
                r#"{{"data_source":"x{i}.csv","processing_type":"no spaces!","chaos_seq":{i}}}"#
            ),
            "`processing_type` must be 1-64 characters",
        ),
        3 => (
            format!(r#"{{"processing_type":"standard","chaos_seq":{i}}}"#),
            "`data_source` is missing",
        ),
        _ => (format!("[{i}]"), "is not a JSON object"),
    };
    Planned {
        body,
        expect: Expect::Invalid { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_mixes_kinds_and_duplicates_share_one_body() {
        let p = plan(40, 7);
        let valid = p
            .iter()
            .filter(|m| matches!(m.expect, Expect::Valid { .. }))
            .count();
        assert_eq!(valid, 32);
        assert_eq!(p[18].body, p[19].body);
        assert_eq!(p[18].body, p[38].body);
        assert_ne!(p[0].body, p[1].body);
    }
}
