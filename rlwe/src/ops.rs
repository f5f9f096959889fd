//! The operator shape every hekit ciphertext shares.
//!
//! Whether two ciphertexts can be added is a property of run-time values
//! (their keys or parameters, levels, scales), not of their Rust types, so
//! `&a + &b` returns a `Result` rather than panicking or answering wrongly.
//! To keep expressions chainable, a `Result` operand is accepted on either
//! side: `(&a + &b - &c)?` works, and the first error is carried through
//! to the end like a NaN. Negation cannot fail and returns the ciphertext.
//!
//! [`result_ops!`](crate::result_ops) writes these impls for a scheme's
//! ciphertext type from its checked `add` / `sub` / `neg` functions.

/// Implements `+` and `-` with `Result` outputs (and `Result` operands on
/// either side), and infallible unary `-`, for a ciphertext type.
///
/// `result_ops!(Type, Error, add, sub, neg)` where `add(&T, &T) ->
/// Result<T, Error>`, `sub` likewise and `neg(&T) -> T` are paths.
#[macro_export]
macro_rules! result_ops {
    ($t:ty, $e:ty, $add:path, $sub:path, $neg:path) => {
        $crate::result_ops!(@bin $t, $e, Add, add, $add);
        $crate::result_ops!(@bin $t, $e, Sub, sub, $sub);
        impl ::core::ops::Neg for &$t {
            type Output = $t;
            fn neg(self) -> $t {
                $neg(self)
            }
        }
    };
    (@bin $t:ty, $e:ty, $tr:ident, $m:ident, $f:path) => {
        impl ::core::ops::$tr<&$t> for &$t {
            type Output = ::core::result::Result<$t, $e>;
            fn $m(self, rhs: &$t) -> Self::Output {
                $f(self, rhs)
            }
        }
        impl ::core::ops::$tr<&$t> for ::core::result::Result<$t, $e> {
            type Output = ::core::result::Result<$t, $e>;
            fn $m(self, rhs: &$t) -> Self::Output {
                $f(&self?, rhs)
            }
        }
        impl ::core::ops::$tr<::core::result::Result<$t, $e>> for &$t {
            type Output = ::core::result::Result<$t, $e>;
            fn $m(self, rhs: ::core::result::Result<$t, $e>) -> Self::Output {
                $f(self, &rhs?)
            }
        }
    };
}
