//! Unguessable values: codes, tokens, client credentials, CSRF tokens (docs/oauth.md#codes-and-tokens: at least 128
//! bits, 32 lowercase hex characters, as 1upHealth's are). `rand::random` draws from the
//! thread-local CSPRNG seeded by the operating system.

/// 128 random bits as 32 lowercase hex characters.
pub fn hex128() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// A 6-digit email verification code, zero-padded.
pub fn six_digits() -> String {
    format!("{:06}", rand::random_range(0..1_000_000u32))
}

#[cfg(test)]
mod tests {
    #[test]
    fn shapes() {
        let a = super::hex128();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(a, super::hex128());
        let code = super::six_digits();
        assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    }
}
