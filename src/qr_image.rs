//! A QR code drawn by the server (`qr_image` there: SVG path data of unit squares over a `modules`-wide grid),
//! shown with its quiet zone: the member card and the printed activation codes.

use leptos::prelude::*;

#[component]
pub fn QrImage(path: String, modules: u32, label: String) -> impl IntoView {
    let size = (modules + 8).to_string();
    let view_box = format!("-4 -4 {size} {size}");
    view! {
        <svg class="qr" viewBox=view_box role="img" aria-label=label>
            <rect x="-4" y="-4" width=size.clone() height=size fill="#fff" />
            <path d=path fill="#000" shape-rendering="crispEdges" />
        </svg>
    }
}
