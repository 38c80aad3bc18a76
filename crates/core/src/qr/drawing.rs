//! Draws a code link as a QR code (error correction M): SVG path data over a `modules`-wide grid, one subpath per
//! run of dark modules in a row, which is several times shorter than one square per module and quicker to
//! paint. The server draws posters and cards with it; the scanner's worker draws the secretary's door code,
//! which changes every 30 seconds with no network (so the app's first load does not carry the encoder).

use crate::sync::QrDrawing;

/// `None` only for a text too long for any QR code.
pub fn draw(text: &str) -> Option<QrDrawing> {
    let qr = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    let modules = qr.width();
    let colors = qr.to_colors();
    let mut path = String::new();
    for (y, row) in colors.chunks(modules).enumerate() {
        let mut x = 0;
        while x < modules {
            if row[x] != qrcode::Color::Dark {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|c| **c == qrcode::Color::Dark).count();
            path.push_str(&format!("M{x} {y}h{run}v1h-{run}z"));
            x += run;
        }
    }
    Some(QrDrawing {
        path,
        modules: u32::try_from(modules).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dark modules a path paints, read back from its subpaths.
    fn painted(drawing: &QrDrawing) -> Vec<(usize, usize)> {
        let mut dark = Vec::new();
        for part in drawing.path.split('M').filter(|p| !p.is_empty()) {
            let (xy, rest) = part.split_once('h').unwrap();
            let (x, y) = xy.split_once(' ').unwrap();
            let run: usize = rest.split_once('v').unwrap().0.parse().unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            dark.extend((x..x + run).map(|x| (x, y)));
        }
        dark
    }

    #[test]
    fn the_runs_paint_exactly_the_dark_modules() {
        let text = "https://guihai.example/q/AbC-_9";
        let drawing = draw(text).unwrap();
        let qr = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).unwrap();
        let expected: Vec<_> = (0..qr.width())
            .flat_map(|y| (0..qr.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| qr[(x, y)] == qrcode::Color::Dark)
            .collect();
        assert_eq!(drawing.modules as usize, qr.width());
        assert_eq!(painted(&drawing), expected);
        assert!(draw(&"x".repeat(5_000)).is_none());
    }
}
