//! C's `strtoul` as the checker keywords use it directly (status codes, digests, regex
//! offsets), since what it accepts (leading blanks, a sign, a `0x`) decides what keepalived
//! takes from the file.

/// `strtoul(s, &end, base)`: the value (wrapped as C wraps a negated one, saturated at
/// `u64::MAX`) and how many bytes were read (0 when no digit was).
pub fn strtoul(s: &[u8], base: u32) -> (u64, usize) {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let digit = |b: u8| (b as char).to_digit(base);
    if base == 16
        && s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
        && s.get(i + 2).and_then(|b| digit(*b)).is_some()
    {
        i += 2;
    }
    let start = i;
    let mut v: u64 = 0;
    let mut over = false;
    while let Some(d) = s.get(i).and_then(|b| digit(*b)) {
        match v
            .checked_mul(u64::from(base))
            .and_then(|x| x.checked_add(u64::from(d)))
        {
            Some(x) => v = x,
            None => over = true,
        }
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    if over {
        return (u64::MAX, i);
    }
    (if neg { v.wrapping_neg() } else { v }, i)
}

#[cfg(test)]
mod tests {
    use super::strtoul;

    #[test]
    fn reads_like_c() {
        assert_eq!(strtoul(b"200-299", 10), (200, 3));
        assert_eq!(strtoul(b"abc", 10), (0, 0));
        assert_eq!(strtoul(b" f", 16), (15, 2));
        assert_eq!(strtoul(b"0x", 16), (0, 1));
        assert_eq!(strtoul(b"-1", 10).0, u64::MAX);
    }
}
