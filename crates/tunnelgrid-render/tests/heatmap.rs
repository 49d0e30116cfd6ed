//! Heat maps and phase diagrams: the cells land where `PanelPixels` says, in their colours, with
//! boundary lines between regions, a colour bar and a legend.

use tunnelgrid_render::colormap::{CONDUCTING, INSULATING, SUPERCONDUCTING};
use tunnelgrid_render::heatmap::{draw_heatmap, write_heatmap};
use tunnelgrid_render::*;

fn px(rgb: &[u8], width: u32, at: (u32, u32)) -> Rgb {
    let i = (at.1 as usize * width as usize + at.0 as usize) * 3;
    Rgb(rgb[i], rgb[i + 1], rgb[i + 2])
}

#[test]
fn phase_diagram_cells_have_their_region_colours_and_boundaries() {
    let pressures: Vec<f64> = (0..4).map(|i| i as f64 * 100.0).collect();
    let temperatures = vec![10.0, 200.0, 400.0];
    // Insulating at P = 0, superconducting at P = 300 below 400 K, conducting elsewhere.
    let regions = |shift: usize| -> Vec<Option<Region>> {
        (0..12)
            .map(|i| {
                let (ip, it) = (i % 4, i / 4);
                Some(if ip == 0 {
                    Region::Insulating
                } else if ip + shift >= 3 && it < 2 {
                    Region::Superconducting
                } else {
                    Region::Conducting
                })
            })
            .collect()
    };
    let map = phase_diagram(
        "test",
        &pressures,
        &temperatures,
        vec![("x".into(), regions(0)), ("z".into(), regions(1))],
    );
    let size = (1200, 600);
    let (rgb, geom) = draw_heatmap(&map, size).unwrap();
    assert_eq!(geom.len(), 2);
    assert_eq!(px(&rgb, 1200, geom[0].pixel(0.0, 400.0)), INSULATING);
    assert_eq!(px(&rgb, 1200, geom[0].pixel(300.0, 10.0)), SUPERCONDUCTING);
    assert_eq!(px(&rgb, 1200, geom[0].pixel(200.0, 10.0)), CONDUCTING);
    assert_eq!(px(&rgb, 1200, geom[1].pixel(200.0, 10.0)), SUPERCONDUCTING);
    // A black boundary line between P = 0 and P = 100 (at 50 GPa).
    let (bx, by) = geom[0].pixel(50.0, 200.0);
    let dark = (bx - 2..=bx + 2).any(|x| {
        let c = px(&rgb, 1200, (x, by));
        c.0 < 40 && c.1 < 40 && c.2 < 40
    });
    assert!(dark, "no boundary line near ({bx}, {by})");
    // The legend shows all three colours below the panels.
    let bottom = &rgb[(size.1 as usize - 40) * 1200 * 3..];
    for c in [INSULATING, CONDUCTING, SUPERCONDUCTING] {
        assert!(
            bottom.chunks(3).any(|p| Rgb(p[0], p[1], p[2]) == c),
            "{c:?} not in legend"
        );
    }
}

#[test]
fn colour_bar_maps_values_through_the_colormap() {
    let n = 8;
    let cells: Vec<Cell> = (0..n * n)
        .map(|i| {
            if i == 0 {
                Cell::Empty
            } else {
                Cell::Value((i % n) as f64)
            }
        })
        .collect();
    let map = Heatmap {
        title: "values".into(),
        x_label: "x".into(),
        y_label: "y".into(),
        x_range: (0.0, n as f64),
        y_range: (0.0, n as f64),
        panels: vec![Panel {
            title: String::new(),
            nx: n,
            ny: n,
            cells,
            hatched: Vec::new(),
        }],
        colour_bar: Some(ColourBar {
            colormap: Colormap::Magma,
            min: 0.0,
            max: (n - 1) as f64,
            label: "v".into(),
        }),
        legend: vec![],
        boundaries: false,
        overlays: vec![],
        annotations: vec![],
        hatch_legend: None,
    };
    let dir = std::env::temp_dir().join(format!("tunnelgrid-heatmap-{}", std::process::id()));
    let path = dir.join("v.png");
    let geom = write_heatmap(&map, &path, (900, 700)).unwrap()[0];
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (900, 700));
    let at = |x: f64, y: f64| {
        let p = img.get_pixel(geom.pixel(x, y).0, geom.pixel(x, y).1);
        Rgb(p[0], p[1], p[2])
    };
    assert_eq!(at(0.5, 0.5), colormap::BACKGROUND, "empty cell");
    assert_eq!(at(7.5, 3.5), Colormap::Magma.at(1.0));
    assert_eq!(at(0.5, 3.5), Colormap::Magma.at(0.0));
    let _ = std::fs::remove_dir_all(&dir);
    // Mismatched cells are refused, naming the panel.
    let mut bad = map.clone();
    bad.panels[0].title = "p1".into();
    bad.panels[0].cells.pop();
    let e = draw_heatmap(&bad, (900, 700)).unwrap_err().to_string();
    assert!(e.contains("p1"), "{e}");
}

#[test]
fn a_failed_write_says_its_os_error_once() {
    // A file where the folder should be: the write fails on every system, root or not.
    let dir = std::env::temp_dir().join(format!("tunnelgrid-render-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("blocker"), "a file").unwrap();
    let err = tunnelgrid_render::png::write_rgb_png(&dir.join("blocker/x.png"), 1, 1, &[0, 0, 0])
        .unwrap_err();
    // The message names the file; the OS error is its source, so an error chain ({:#} in the
    // command line) shows it once.
    let message = err.to_string();
    assert!(
        message.contains("blocker") && !message.contains("os error"),
        "{message}"
    );
    let source = std::error::Error::source(&err).expect("the OS error is the source");
    assert!(source.to_string().contains("os error"), "{source}");
    let _ = std::fs::remove_dir_all(&dir);
}
