//! Draws a QR code as SVG path data (core's `qr::drawing`; the caller adds the quiet zone), for the printed
//! poster, the member card and the codes shown on a screen.

use guihai_core::qr::drawing;
use guihai_core::sync::QrDrawing;

use crate::error::AppError;

pub fn draw(text: &str) -> Result<QrDrawing, AppError> {
    drawing::draw(text).ok_or_else(|| AppError::Internal(format!("cannot make a QR code of {} bytes", text.len())))
}
