//! The built-in `earth` profile: pressure from PREM, temperature from a standard geotherm.
//!
//! - **Pressure**: the Preliminary Reference Earth Model (Dziewonski & Anderson 1981, *Phys.
//!   Earth Planet. Inter.* 25, 297–356). The values are PREM's density polynomials integrated for
//!   hydrostatic equilibrium (g = G·M(r)/r², dP/dr = −ρ·g), which is how PREM's own pressure
//!   column was made; they agree with its table to about 0.1 % (135.8 GPa at the core–mantle
//!   boundary, 329 GPa at the inner-core boundary, 364 GPa at the centre).
//! - **Temperature**: a standard geotherm assembled from textbook anchor points (Stacey & Davis
//!   2008, *Physics of the Earth*, 4th ed., ch. 18; Anderson 2007, *New Theory of the Earth*):
//!   288 K at the surface, a conductive lithosphere to about 1600 K at 100 km, the mantle adiabat
//!   (≈ 1800 K at 400 km, ≈ 1900 K at 670 km, ≈ 2550 K at the top of D″), the thermal boundary
//!   layer of D″ to ≈ 4000 K at the core–mantle boundary, the core adiabat to ≈ 5400 K at the
//!   inner-core boundary and ≈ 5500 K at the centre, linear between the anchors. Deep Earth
//!   temperatures are uncertain by several hundred kelvin; take these as illustrative to a few
//!   percent near the surface and ±10 % in the core.
//!
//! Depths are every 100 km (more finely near the surface) plus PREM's discontinuities: the Moho
//! (24.4 km), 220, 400 and 670 km, the core–mantle boundary (2891 km) and the inner-core
//! boundary (5150 km).

/// (depth km, pressure GPa, temperature K), surface to centre.
pub const EARTH: [(f64, f64, f64); 70] = [
    (0.0, 0.0, 288.0),
    (24.4, 0.6, 700.0),
    (50.0, 1.5, 1005.0),
    (100.0, 3.1, 1600.0),
    (150.0, 4.8, 1642.0),
    (220.0, 7.1, 1700.0),
    (300.0, 9.9, 1744.0),
    (400.0, 13.4, 1800.0),
    (500.0, 17.1, 1837.0),
    (600.0, 21.1, 1874.0),
    (670.0, 23.8, 1900.0),
    (800.0, 29.6, 1939.0),
    (900.0, 34.1, 1970.0),
    (1000.0, 38.6, 2000.0),
    (1100.0, 43.2, 2030.0),
    (1200.0, 47.9, 2060.0),
    (1300.0, 52.6, 2090.0),
    (1400.0, 57.3, 2120.0),
    (1500.0, 62.1, 2150.0),
    (1600.0, 67.0, 2180.0),
    (1700.0, 71.9, 2210.0),
    (1800.0, 76.9, 2240.0),
    (1900.0, 81.9, 2270.0),
    (2000.0, 87.0, 2300.0),
    (2100.0, 92.1, 2330.0),
    (2200.0, 97.3, 2360.0),
    (2300.0, 102.6, 2390.0),
    (2400.0, 108.0, 2420.0),
    (2500.0, 113.5, 2450.0),
    (2600.0, 119.0, 2491.0),
    (2700.0, 124.7, 2533.0),
    (2741.0, 127.1, 2550.0),
    (2800.0, 130.5, 3120.0),
    (2891.0, 135.8, 4000.0),
    (3000.0, 147.3, 4068.0),
    (3100.0, 157.8, 4130.0),
    (3200.0, 168.2, 4192.0),
    (3300.0, 178.5, 4253.0),
    (3400.0, 188.7, 4315.0),
    (3500.0, 198.7, 4377.0),
    (3600.0, 208.6, 4439.0),
    (3700.0, 218.2, 4501.0),
    (3800.0, 227.7, 4563.0),
    (3900.0, 237.0, 4625.0),
    (4000.0, 246.0, 4687.0),
    (4100.0, 254.8, 4749.0),
    (4200.0, 263.3, 4811.0),
    (4300.0, 271.5, 4873.0),
    (4400.0, 279.5, 4935.0),
    (4500.0, 287.1, 4997.0),
    (4600.0, 294.5, 5059.0),
    (4700.0, 301.5, 5121.0),
    (4800.0, 308.2, 5183.0),
    (4900.0, 314.6, 5245.0),
    (5000.0, 320.7, 5307.0),
    (5100.0, 326.4, 5369.0),
    (5150.0, 329.1, 5400.0),
    (5200.0, 331.8, 5404.0),
    (5300.0, 337.0, 5412.0),
    (5400.0, 341.8, 5420.0),
    (5500.0, 346.1, 5429.0),
    (5600.0, 350.0, 5437.0),
    (5700.0, 353.4, 5445.0),
    (5800.0, 356.3, 5453.0),
    (5900.0, 358.8, 5461.0),
    (6000.0, 360.8, 5470.0),
    (6100.0, 362.3, 5478.0),
    (6200.0, 363.4, 5486.0),
    (6300.0, 364.0, 5494.0),
    (6371.0, 364.1, 5500.0),
];
