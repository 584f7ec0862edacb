//! Splits an argument vector the way popt 1.19 does for ipvsadm: short clusters, `=values`,
//! optional arguments, leftovers collected wherever they stand (or, under `POSIXLY_CORRECT`,
//! everything from the first non-option on), and `--`. Scripts depend on these details, so
//! they are reproduced rather than left to a general-purpose parser.

use crate::flags::{self, Flag, Value};

/// One option as popt hands it over.
pub struct Item<'a> {
    pub flag: &'static Flag,
    pub arg: Option<&'a str>,
}

/// A popt-level failure; ipvsadm prints it as `"{bad}: {reason}"`.
#[derive(Debug, PartialEq, Eq)]
pub struct PoptError {
    /// The argument word popt was reading (popt's `poptBadOption`).
    pub bad: String,
    pub reason: &'static str,
}

impl std::fmt::Display for PoptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.bad, self.reason)
    }
}

pub struct Popt<'a, S> {
    args: &'a [S],
    next: usize,
    /// Inside a short cluster: the word's index and the byte offset of the next letter.
    cluster: Option<(usize, usize)>,
    only_leftovers: bool,
    posix: bool,
    leftovers: Vec<&'a str>,
}

impl<'a, S: AsRef<str>> Popt<'a, S> {
    /// `args` excludes the program name.
    pub fn new(args: &'a [S], posix: bool) -> Popt<'a, S> {
        Popt {
            args,
            next: 0,
            cluster: None,
            only_leftovers: false,
            posix,
            leftovers: Vec::new(),
        }
    }

    fn word(&self, i: usize) -> &'a str {
        self.args[i].as_ref()
    }

    /// The argument word that was consumed last.
    pub fn last_word(&self) -> &'a str {
        match self.cluster {
            Some((i, _)) => self.word(i),
            None => self.next.checked_sub(1).map_or("", |i| self.word(i)),
        }
    }

    /// The non-option words, in order; complete once `next_item` has returned `None`.
    pub fn into_leftovers(self) -> Vec<&'a str> {
        self.leftovers
    }

    pub fn next_item(&mut self) -> Result<Option<Item<'a>>, PoptError> {
        loop {
            if let Some((i, off)) = self.cluster {
                return self.short_letter(i, off).map(Some);
            }
            let Some(word) = self.args.get(self.next).map(AsRef::as_ref) else {
                return Ok(None);
            };
            self.next += 1;
            if self.only_leftovers {
                self.leftovers.push(word);
            } else if word == "--" {
                self.only_leftovers = true;
            } else if let Some(long) = word.strip_prefix("--") {
                return self.long_option(word, long).map(Some);
            } else if word.len() > 1 && word.starts_with('-') {
                self.cluster = Some((self.next - 1, 1));
            } else {
                self.only_leftovers = self.posix;
                self.leftovers.push(word);
            }
        }
    }

    fn short_letter(&mut self, i: usize, off: usize) -> Result<Item<'a>, PoptError> {
        let word = self.word(i);
        let bad = || PoptError {
            bad: word.to_string(),
            reason: "unknown option",
        };
        let c = word[off..].chars().next().ok_or_else(bad)?;
        let rest = off + c.len_utf8();
        let flag = flags::by_short(c).ok_or_else(bad)?;
        self.cluster = (rest < word.len()).then_some((i, rest));
        if flag.value == Value::None {
            return Ok(Item { flag, arg: None });
        }
        self.cluster = None;
        let inline = &word[rest..];
        let arg = if inline.is_empty() {
            self.following(flag.value)
        } else {
            Some(inline.strip_prefix('=').unwrap_or(inline))
        };
        match (arg, flag.value) {
            (None, Value::Required(_)) => Err(PoptError {
                bad: word.to_string(),
                reason: "missing argument",
            }),
            (arg, _) => Ok(Item { flag, arg }),
        }
    }

    fn long_option(&mut self, word: &'a str, long: &'a str) -> Result<Item<'a>, PoptError> {
        let (name, inline) = match long.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (long, None),
        };
        let flag = flags::by_long(name).ok_or_else(|| PoptError {
            bad: word.to_string(),
            reason: "unknown option",
        })?;
        let arg = match (flag.value, inline) {
            (Value::None, Some(_)) => {
                return Err(PoptError {
                    bad: word.to_string(),
                    reason: "option does not take an argument",
                })
            }
            (Value::None, None) => None,
            (_, Some(v)) => Some(v),
            (value, None) => self.following(value),
        };
        if arg.is_none() && matches!(flag.value, Value::Required(_)) {
            return Err(PoptError {
                bad: word.to_string(),
                reason: "missing argument",
            });
        }
        Ok(Item { flag, arg })
    }

    /// The next word as the option's argument: always for a required argument, and for an
    /// optional one only when it does not look like an option.
    fn following(&mut self, value: Value) -> Option<&'a str> {
        let word = self.args.get(self.next)?.as_ref();
        if matches!(value, Value::Optional(_)) && word.starts_with('-') {
            return None;
        }
        self.next += 1;
        Some(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::Id;

    type Split = (Vec<(Id, Option<String>)>, Result<(), String>, Vec<String>);

    fn split(line: &str, posix: bool) -> Split {
        let args: Vec<String> = line
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let mut p = Popt::new(&args, posix);
        let mut items = Vec::new();
        let res = loop {
            match p.next_item() {
                Ok(Some(it)) => items.push((it.flag.id, it.arg.map(String::from))),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e.to_string()),
            }
        };
        let left = p.into_leftovers().into_iter().map(String::from).collect();
        (items, res, left)
    }

    #[test]
    fn clusters_take_the_rest_as_argument() {
        let (items, res, _) = split("-At1.1.1.3:80 -srr -p=300", false);
        assert_eq!(res, Ok(()));
        assert_eq!(
            items,
            vec![
                (Id::AddService, None),
                (Id::TcpService, Some("1.1.1.3:80".into())),
                (Id::Scheduler, Some("rr".into())),
                (Id::Persistent, Some("300".into())),
            ]
        );
        let (items, ..) = split("-list", false);
        assert_eq!(
            items,
            vec![
                (Id::List, None),
                (Id::Ipip, None),
                (Id::Scheduler, Some("t".into()))
            ]
        );
    }

    #[test]
    fn optional_argument_skips_options() {
        let (items, ..) = split("-A -p -s rr", false);
        assert_eq!(items[1], (Id::Persistent, None));
        let (items, ..) = split("-A --persistent 800", false);
        assert_eq!(items[1], (Id::Persistent, Some("800".into())));
        let (_, res, _) = split("-A -p -5", false);
        assert_eq!(res, Err("-5: unknown option".into()));
    }

    #[test]
    fn errors_name_the_word() {
        assert_eq!(
            split("-L -Lnx", false).1,
            Err("-Lnx: missing argument".into())
        );
        assert_eq!(
            split("-L --lis", false).1,
            Err("--lis: unknown option".into())
        );
        assert_eq!(
            split("-L --stats=1", false).1,
            Err("--stats=1: option does not take an argument".into())
        );
    }

    #[test]
    fn leftovers_and_posix() {
        let (items, _, left) = split("--set 1 2 3 --sort", false);
        assert_eq!(items.len(), 2);
        assert_eq!(left, vec!["1", "2", "3"]);
        let (items, _, left) = split("--set 1 2 3 --sort", true);
        assert_eq!(items.len(), 1);
        assert_eq!(left, vec!["1", "2", "3", "--sort"]);
        let (_, _, left) = split("-L -- -n", false);
        assert_eq!(left, vec!["-n"]);
    }
}
