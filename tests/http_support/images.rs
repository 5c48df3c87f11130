//! Test images, made here at run time (none are committed): pictures whose
//! colour says where in them a pixel is, as PNG or JPEG, a JPEG whose EXIF
//! says to turn it, and a PNG header of a decompression bomb.

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use std::io::Cursor;

/// A `w`×`h` picture: red on the left half, blue on the right.
pub fn halves(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgb([220, 30, 30])
        } else {
            Rgb([30, 30, 220])
        }
    }))
}

pub fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode a test image");
    out.into_inner()
}

pub fn png(w: u32, h: u32) -> Vec<u8> {
    encode(&halves(w, h), ImageFormat::Png)
}

pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    encode(&halves(w, h), ImageFormat::Jpeg)
}

/// A JPEG of [`halves`] whose EXIF orientation (6) says: turn it 90°
/// clockwise to show it (as a phone held upright writes it).
pub fn jpeg_turned(w: u32, h: u32) -> Vec<u8> {
    let plain = jpeg(w, h);
    // APP1 "Exif": a big-endian TIFF header and one IFD with one entry,
    // Orientation (0x0112), SHORT, 1 value: 6.
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&[0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = u16::try_from(app1.len() + 2).unwrap();
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A small PNG whose header says it is `side`×`side` pixels (a
/// decompression bomb's promise), with its header's checksum right.
pub fn png_claiming(side: u32) -> Vec<u8> {
    let mut p = png(4, 4);
    // IHDR's width and height (bytes 16..24), then its CRC (29..33).
    p[16..20].copy_from_slice(&side.to_be_bytes());
    p[20..24].copy_from_slice(&side.to_be_bytes());
    let crc = crc32(&p[12..29]);
    p[29..33].copy_from_slice(&crc.to_be_bytes());
    p
}

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for b in data {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A JPEG answer decoded: its size, and the colour at (x, y).
pub fn decode_jpeg(bytes: &[u8]) -> RgbImage {
    assert_eq!(&bytes[..2], &[0xFF, 0xD8], "a JPEG");
    image::load_from_memory_with_format(bytes, ImageFormat::Jpeg)
        .expect("the answer decodes as a JPEG")
        .to_rgb8()
}

/// Whether a pixel is the red, or the blue, of [`halves`] (after JPEG).
pub fn is_red(p: &Rgb<u8>) -> bool {
    p.0[0] > 150 && p.0[2] < 100
}

pub fn is_blue(p: &Rgb<u8>) -> bool {
    p.0[2] > 150 && p.0[0] < 100
}
