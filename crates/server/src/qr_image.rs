//! Draws a QR code as SVG: one path of unit squares, one per dark module, for a viewBox of the code's width
//! (the caller adds the quiet zone). Used for the printed poster and the member card.

use crate::error::AppError;

/// A QR code ready to draw: `path` is SVG path data over a `modules` × `modules` grid.
pub struct QrPath {
    pub modules: usize,
    pub path: String,
}

pub fn draw(text: &str) -> Result<QrPath, AppError> {
    let qr = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|error| AppError::Internal(format!("cannot make a QR code: {error}")))?;
    let modules = qr.width();
    let mut path = String::new();
    for (i, color) in qr.to_colors().into_iter().enumerate() {
        if color == qrcode::Color::Dark {
            path.push_str(&format!("M{} {}h1v1h-1z", i % modules, i / modules));
        }
    }
    Ok(QrPath { modules, path })
}
