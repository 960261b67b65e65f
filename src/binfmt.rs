//! A minimal little-endian binary encoding for the caches: fixed-width integers and
//! length-prefixed byte strings. Reading never panics: running off the end or an invalid string
//! is an error, so a truncated or corrupt file is rejected, not trusted.

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

    /// A length (u32) and the bytes.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u32(v.len() as u32);
        self.buf.extend_from_slice(v);
    }

    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    /// Raw bytes of a known length (an object id).
    pub fn raw(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
}

/// Reads values back in the order they were written.
pub struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

/// Why a buffer could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncated;

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("truncated or malformed record")
    }
}

pub type Read<T> = Result<T, Truncated>;

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, at: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.at >= self.data.len()
    }

    /// The next `n` bytes.
    pub fn raw(&mut self, n: usize) -> Read<&'a [u8]> {
        let end = self.at.checked_add(n).ok_or(Truncated)?;
        let s = self.data.get(self.at..end).ok_or(Truncated)?;
        self.at = end;
        Ok(s)
    }

    pub fn u8(&mut self) -> Read<u8> {
        Ok(self.raw(1)?[0])
    }

    pub fn u32(&mut self) -> Read<u32> {
        let b = self.raw(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Read<u64> {
        let b = self.raw(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub fn i64(&mut self) -> Read<i64> {
        Ok(self.u64()? as i64)
    }

    pub fn bytes(&mut self) -> Read<&'a [u8]> {
        let n = self.u32()? as usize;
        self.raw(n)
    }

    pub fn str(&mut self) -> Read<&'a str> {
        std::str::from_utf8(self.bytes()?).map_err(|_| Truncated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let mut w = Writer::default();
        w.u8(7);
        w.u32(70_000);
        w.u64(u64::MAX - 1);
        w.i64(-5);
        w.str("héllo");
        w.raw(&[1, 2, 3]);
        let mut r = Reader::new(&w.buf);
        assert_eq!(r.u8(), Ok(7));
        assert_eq!(r.u32(), Ok(70_000));
        assert_eq!(r.u64(), Ok(u64::MAX - 1));
        assert_eq!(r.i64(), Ok(-5));
        assert_eq!(r.str(), Ok("héllo"));
        assert_eq!(r.raw(3), Ok(&[1u8, 2, 3][..]));
        assert!(r.is_empty());
        assert_eq!(r.u8(), Err(Truncated));
        // Every prefix of the buffer fails cleanly somewhere, never panics.
        for n in 0..w.buf.len() {
            let mut r = Reader::new(&w.buf[..n]);
            let all = (|| -> Read<()> {
                r.u8()?;
                r.u32()?;
                r.u64()?;
                r.i64()?;
                r.str()?;
                r.raw(3)?;
                Ok(())
            })();
            assert_eq!(all, Err(Truncated), "prefix {n}");
        }
        // A huge length does not allocate or panic.
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 1]);
        assert_eq!(r.bytes(), Err(Truncated));
    }
}
