//! The stacks a forward sweep keeps values on inside `for` loops.
//!
//! Before a `for` loop the generated code reserves, on every stack the loop's body pushes
//! to, room for one push per iteration ([`trip_count`], [`reserve_stack`]). Pushes directly
//! in that body then go through [`push_reserved`], which cannot grow the stack: `Vec::push`
//! keeps a call to its growth path in the loop, and since a call may clobber every
//! floating-point register, the compiler keeps the loop's running values in memory around
//! it, which puts a store and a load on the loop-carried chain of every iteration. A push
//! that cannot grow only has a panic on its cold path, which never returns, so the values
//! stay in registers. (On the particle benchmark's loop this is 5-7 % of the gradient.)

/// The number of items `it` yields: its size hint when exact, else a count. The generated
/// code passes a fresh evaluation of the loop's iterator (or a clone of the kept one).
#[inline]
pub fn trip_count<I: Iterator>(it: I) -> usize {
    match it.size_hint() {
        (lo, Some(hi)) if lo == hi => lo,
        _ => it.count(),
    }
}

/// Room on `stack` for `n` more pushes. The stack is moved into the cold growth path and
/// back rather than lent to it: a stack whose address escapes into a call lives in memory
/// from then on, and so did the loop's values around it (`Vec::reserve` measured as slow as
/// a growing push).
#[inline(always)]
pub fn reserve_stack<T>(stack: &mut Vec<T>, n: usize) {
    if stack.capacity() - stack.len() < n {
        *stack = grown(core::mem::take(stack), n);
    }
}

#[cold]
#[inline(never)]
fn grown<T>(mut stack: Vec<T>, n: usize) -> Vec<T> {
    stack.reserve(n);
    stack
}

/// `stack.push(v)` onto a stack with room reserved for it (see the module docs).
///
/// # Panics
/// When the stack is full: the reservation before the loop was wrong, a bug of the macro.
#[inline(always)]
pub fn push_reserved<T>(stack: &mut Vec<T>, v: T) {
    if stack.len() < stack.capacity() {
        stack.push(v);
    } else {
        out_of_reserved_room()
    }
}

#[cold]
#[inline(never)]
fn out_of_reserved_room() -> ! {
    panic!("internal error of #[differentiable]: a loop pushed more than it reserved")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trip_count_counts_exact_and_inexact_iterators() {
        assert_eq!(trip_count(3..10), 7);
        assert_eq!(trip_count((0..=10).rev().step_by(3)), 4);
        let odd = (0..9).filter(|i| i % 2 == 1);
        assert_eq!(odd.size_hint(), (0, Some(9)));
        assert_eq!(trip_count(odd), 4);
    }

    #[test]
    fn pushes_within_the_reservation() {
        let mut s = vec![7];
        reserve_stack(&mut s, trip_count(0..3));
        assert!(s.capacity() >= 4);
        for i in 0..3 {
            push_reserved(&mut s, i);
        }
        assert_eq!(s, [7, 0, 1, 2]);
        // Enough room already: nothing moves.
        let at = s.as_ptr();
        s.truncate(1);
        reserve_stack(&mut s, 3);
        assert_eq!((s.as_ptr(), &s[..]), (at, &[7][..]));
    }

    #[test]
    #[should_panic(expected = "pushed more than it reserved")]
    fn a_push_past_the_reservation_is_a_bug_not_a_growth() {
        let mut s: Vec<u8> = Vec::new();
        s.reserve_exact(1);
        let room = s.capacity();
        for _ in 0..=room {
            push_reserved(&mut s, 0);
        }
    }
}
