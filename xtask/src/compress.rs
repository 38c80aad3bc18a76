//! Writes `.gz` and `.br` siblings of the text and wasm files in `dist/`, so the server sends them precompressed.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use brotli::enc::BrotliEncoderParams;
use flate2::{write::GzEncoder, Compression};

use crate::Result;

const COMPRESSIBLE: [&str; 7] = ["js", "wasm", "css", "html", "json", "svg", "webmanifest"];

/// Whether a dist path is one of the precompressed files this module writes.
pub fn is_sibling(path: &str) -> bool {
    path.ends_with(".gz") || path.ends_with(".br")
}

pub fn write_siblings(dist: &Path, files: &[String]) -> Result {
    for file in files.iter().filter(|file| is_compressible(file)) {
        let path = dist.join(file);
        let data = std::fs::read(&path)?;
        std::fs::write(with_suffix(&path, ".gz"), gzip(&data)?)?;
        std::fs::write(with_suffix(&path, ".br"), brotli(&data)?)?;
    }
    Ok(())
}

fn is_compressible(file: &str) -> bool {
    Path::new(file)
        .extension()
        .and_then(OsStr::to_str)
        .is_some_and(|extension| COMPRESSIBLE.contains(&extension))
}

/// `path` with `suffix` added to its name: `x.wasm` and `.br` make `x.wasm.br`.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

fn gzip(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data)?;
    encoder.finish()
}

fn brotli(data: &[u8]) -> io::Result<Vec<u8>> {
    let params = BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        size_hint: data.len(),
        ..Default::default()
    };
    let mut compressed = Vec::new();
    brotli::BrotliCompress(&mut &data[..], &mut compressed, &params)?;
    Ok(compressed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn picks_files_by_extension() {
        assert!(is_compressible("guihai-1a2b_bg.wasm"));
        assert!(is_compressible("icons/icon.svg"));
        assert!(is_compressible("manifest.webmanifest"));
        assert!(!is_compressible("icons/icon-192.png"));
        assert!(!is_compressible("index.html.gz"));
    }

    #[test]
    fn both_encodings_round_trip() {
        let text = "流动党员之家 guihai ".repeat(200).into_bytes();

        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&gzip(&text).unwrap()[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, text);

        let compressed = brotli(&text).unwrap();
        assert!(compressed.len() < text.len() / 10);
        let mut unbrotlied = Vec::new();
        brotli::Decompressor::new(&compressed[..], 4096)
            .read_to_end(&mut unbrotlied)
            .unwrap();
        assert_eq!(unbrotlied, text);
    }
}
