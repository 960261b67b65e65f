//! The compact binary encoding of the caches (parse facts, history records): little-endian
//! fixed-width integers, LEB128 varints, and varint-length-prefixed byte strings.
//!
//! Reading never panics and never trusts a length: running off the end, a varint longer than 64
//! bits, a count larger than the bytes left, or a string that is not UTF-8 is an error naming
//! what was wrong, so a truncated or corrupt file is rejected, not believed.

use crate::git::Oid;

/// Why a buffer could not be read.
pub type Parsed<T> = Result<T, String>;

/// Appends values to a byte buffer.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// LEB128: 7 bits per byte, small numbers in one byte.
    pub fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    /// A varint length and the bytes.
    pub fn bytes(&mut self, v: &[u8]) {
        self.varint(v.len() as u64);
        self.buf.extend_from_slice(v);
    }

    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    pub fn oid(&mut self, id: &Oid) {
        self.bytes(id.as_bytes());
    }

    /// Raw bytes (a magic tag, or a body already encoded).
    pub fn raw(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
}

/// Reads values back in the order they were written; every read is bounds-checked.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    /// Bytes read so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.left() == 0
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Parsed<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or("truncated")?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub fn u8(&mut self) -> Parsed<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u32(&mut self) -> Parsed<u32> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }

    pub fn u64(&mut self) -> Parsed<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    pub fn i64(&mut self) -> Parsed<i64> {
        Ok(self.u64()? as i64)
    }

    pub fn varint(&mut self) -> Parsed<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("bad varint".into())
    }

    /// A count of items that each take at least one byte, so a corrupt count cannot make a huge
    /// allocation.
    pub fn count(&mut self) -> Parsed<usize> {
        let n = self.varint()?;
        if n > self.left() as u64 {
            return Err("count larger than the file".into());
        }
        Ok(n as usize)
    }

    pub fn bytes(&mut self) -> Parsed<&'a [u8]> {
        let n = self.count()?;
        self.take(n)
    }

    pub fn str(&mut self) -> Parsed<&'a str> {
        std::str::from_utf8(self.bytes()?).map_err(|_| "a string is not UTF-8".into())
    }

    pub fn oid(&mut self) -> Parsed<Oid> {
        Oid::from_bytes(self.bytes()?).map_err(|e| format!("bad object id: {}", e.message()))
    }

    /// A varint index into `table` (an interned string).
    pub fn index<'s, T>(&mut self, table: &'s [T]) -> Parsed<&'s T> {
        let i = self.varint()?;
        table
            .get(usize::try_from(i).unwrap_or(usize::MAX))
            .ok_or_else(|| "index out of range".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Writer {
        let mut w = Writer::default();
        w.u8(7);
        w.u32(70_000);
        w.u64(u64::MAX - 1);
        w.i64(-5);
        w.varint(300);
        w.varint(u64::MAX);
        w.str("héllo");
        w.oid(&Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap());
        w.raw(&[1, 2, 3]);
        w
    }

    fn read_all(r: &mut Reader) -> Parsed<()> {
        assert_eq!(r.u8()?, 7);
        assert_eq!(r.u32()?, 70_000);
        assert_eq!(r.u64()?, u64::MAX - 1);
        assert_eq!(r.i64()?, -5);
        assert_eq!(r.varint()?, 300);
        assert_eq!(r.varint()?, u64::MAX);
        assert_eq!(r.str()?, "héllo");
        assert_eq!(
            r.oid()?.to_string(),
            "0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(r.take(3)?, &[1u8, 2, 3][..]);
        Ok(())
    }

    #[test]
    fn round_trip_and_every_truncation_fails_cleanly() {
        let w = sample();
        let mut r = Reader::new(&w.buf);
        read_all(&mut r).unwrap();
        assert!(r.is_empty());
        assert!(r.u8().is_err());
        for n in 0..w.buf.len() {
            let mut r = Reader::new(&w.buf[..n]);
            assert!(read_all(&mut r).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn lying_lengths_and_bad_values_are_errors() {
        // A length far past the end: no allocation, no panic.
        let mut w = Writer::default();
        w.varint(1 << 40);
        w.raw(b"abc");
        assert!(Reader::new(&w.buf).bytes().is_err());
        // A varint that never ends.
        assert!(Reader::new(&[0xff; 11]).varint().is_err());
        // Not UTF-8.
        let mut w = Writer::default();
        w.bytes(&[0xff, 0xfe]);
        assert!(Reader::new(&w.buf).str().is_err());
        // An index past the table.
        let mut w = Writer::default();
        w.varint(5);
        assert!(Reader::new(&w.buf).index(&["a", "b"]).is_err());
    }
}
