//! Check digits and formats of national party identifiers (PEPPOL-COMMON-R040 to R050).

fn digits(s: &str) -> Option<Vec<u32>> {
    if s.is_empty() {
        return None;
    }
    s.chars().map(|c| c.to_digit(10)).collect()
}

/// GS1 GLN (ICD 0088): digits, the last one the GS1 check digit.
pub(crate) fn gln(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    let Some((check, body)) = d.split_last() else { return false };
    let sum: u32 = body.iter().rev().enumerate().map(|(i, v)| v * if i % 2 == 0 { 3 } else { 1 }).sum();
    (10 - sum % 10) % 10 == *check
}

/// Modulus 11 with weights 2..7 from the right, as used by Norwegian organisation numbers.
pub(crate) fn mod11(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.iter().all(|v| *v == 0) {
        return false;
    }
    let Some((check, body)) = d.split_last() else { return false };
    let sum: u32 = body.iter().rev().enumerate().map(|(i, v)| v * (u32::try_from(i % 6).unwrap_or(0) + 2)).sum();
    (11 - sum % 11) % 11 == *check
}

/// Norwegian organisation number (ICD 0192): nine digits, modulus 11.
pub(crate) fn norwegian_organisation(s: &str) -> bool {
    s.len() == 9 && mod11(s)
}

/// Danish CVR (ICD 0184): eight digits, or `DK` and eight digits.
pub(crate) fn danish_cvr(s: &str) -> bool {
    let all_digits = |t: &str| t.chars().all(|c| c.is_ascii_digit());
    (s.chars().count() == 10 && s.starts_with("DK") && s.get(2..).is_some_and(all_digits))
        || (s.chars().count() == 8 && all_digits(s))
}

/// Belgian enterprise number (ICD 0208): ten digits, the last two `97 - (first eight mod 97)`.
pub(crate) fn belgian_enterprise(s: &str) -> bool {
    if s.len() != 10 || !s.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let (Some(head), Some(tail)) = (s.get(..8), s.get(8..)) else { return false };
    let (Ok(head), Ok(tail)) = (head.parse::<u64>(), tail.parse::<u64>()) else { return false };
    97 - head % 97 == tail
}

/// Italian IPA code (ICD 0201): six ASCII letters or digits.
pub(crate) fn italian_ipa(s: &str) -> bool {
    s.len() == 6 && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Italian Codice Fiscale (ICD 0210, EAS 9907): eleven digits, or the sixteen-character personal
/// code (letters and digits in their places).
pub(crate) fn italian_fiscal_code(s: &str) -> bool {
    let c: Vec<char> = s.chars().collect();
    match c.len() {
        11 => c.iter().all(char::is_ascii_digit),
        16 => {
            let letters = |r: std::ops::Range<usize>| c.get(r).is_some_and(|p| p.iter().all(char::is_ascii_alphabetic));
            let numbers = |r: std::ops::Range<usize>| c.get(r).is_some_and(|p| p.iter().all(char::is_ascii_digit));
            letters(0..6) && numbers(6..8) && letters(8..9) && numbers(9..11) && numbers(14..15) && letters(15..16)
        }
        _ => false,
    }
}

/// Italian VAT number (ICD 0211): when it starts with `IT`, eleven digits with the Luhn-style
/// Partita IVA check; other prefixes are not checked.
pub(crate) fn italian_vat(s: &str) -> bool {
    let Some(code) = s.strip_prefix("IT").or_else(|| s.strip_prefix("it")) else { return true };
    let Some(d) = digits(code) else { return false };
    if d.len() != 11 {
        return false;
    }
    let sum: u32 = d.iter().enumerate().map(|(i, v)| if i % 2 == 1 { (v * 2) / 10 + (v * 2) % 10 } else { *v }).sum();
    sum.is_multiple_of(10)
}

/// Swedish organisation number (ICD 0007): ten digits, Luhn check digit.
pub(crate) fn swedish_organisation(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 10 {
        return false;
    }
    let Some((check, body)) = d.split_last() else { return false };
    let sum: u32 =
        body.iter().rev().enumerate().map(|(i, v)| if i % 2 == 0 { (v * 2) % 10 + (v * 2) / 10 } else { *v }).sum();
    (10 - sum % 10) % 10 == *check
}

/// Australian Business Number (ICD 0151): eleven digits, weighted sum (first digit less one)
/// divisible by 89.
pub(crate) fn australian_business_number(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 11 {
        return false;
    }
    const WEIGHTS: [i64; 11] = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
    let sum: i64 = d.iter().zip(WEIGHTS).enumerate().map(|(i, (v, w))| (i64::from(*v) - i64::from(i == 0)) * w).sum();
    sum % 89 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits() {
        assert!(gln("9429041098400") && !gln("9429041098401"));
        assert!(belgian_enterprise("0739484052") && !belgian_enterprise("0739484059"));
        assert!(swedish_organisation("2021005489") && !swedish_organisation("2021005480"));
        assert!(australian_business_number("51824753556") && !australian_business_number("51824753550"));
        assert!(italian_vat("IT02985591201") && !italian_vat("IT1") && !italian_vat("ITABC"));
        assert!(italian_fiscal_code("97735020584") && !italian_fiscal_code("ABC"));
        assert!(danish_cvr("DK12345678") && danish_cvr("12345678") && !danish_cvr("DK1234567"));
        assert!(italian_ipa("F7VRDL") && !italian_ipa("F7VRDLF7VRDL"));
    }
}
