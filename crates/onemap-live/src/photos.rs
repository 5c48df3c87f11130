//! Photos of events: a unit leader adds up to three to an event of their
//! units; whoever may read the event's text sees them.
//!
//! An upload is decoded before anything is kept — JPEG or PNG only, never
//! more than [`MAX_PIXELS`] or [`MAX_DECODE_BYTES`], so a decompression
//! bomb is refused rather than held in memory — turned upright as its EXIF
//! orientation says, scaled so its long side is at most [`DISPLAY_SIDE`],
//! and kept as a JPEG of quality [`JPEG_QUALITY`]. At most
//! [`PHOTO_TURNS`] uploads are decoded at once; others wait their turn.

use crate::{Live, LiveError};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use onemap_core::workflow::{check_photo, may_read, Actor, MAX_PHOTOS};
use onemap_store::{NewPhoto, PhotoInfo, StoreError};
use serde::Serialize;
use std::io::Cursor;
use std::sync::Arc;

/// The most pixels an upload may have (40 megapixels: a phone's camera
/// takes 12 to 50).
pub const MAX_PIXELS: u64 = 40_000_000;
/// The most memory one decoding may take.
pub const MAX_DECODE_BYTES: u64 = 256 << 20;
/// The long side of a kept photo, pixels.
pub const DISPLAY_SIDE: u32 = 1280;
/// The quality of a kept photo's JPEG.
pub const JPEG_QUALITY: u8 = 80;
/// Uploads decoded at once.
pub const PHOTO_TURNS: usize = 2;
/// The media type of every kept photo.
pub const PHOTO_MEDIA_TYPE: &str = "image/jpeg";

/// A photo of an event as its page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhotoRef {
    /// 1 to 3, in the order the photos came.
    pub seq: u8,
    pub width: u32,
    pub height: u32,
    /// The name of who added it.
    pub uploader: String,
    /// When it was added (Unix seconds).
    pub at: i64,
}

impl From<PhotoInfo> for PhotoRef {
    fn from(p: PhotoInfo) -> Self {
        PhotoRef {
            seq: p.seq,
            width: p.width,
            height: p.height,
            uploader: p.uploader,
            at: p.at,
        }
    }
}

fn too_large() -> LiveError {
    LiveError::PhotoTooLarge {
        max_pixels: MAX_PIXELS,
        max_mib: MAX_DECODE_BYTES >> 20,
    }
}

/// Decodes an upload (JPEG or PNG, bounded) and makes its display JPEG.
pub fn display_photo(bytes: &[u8]) -> Result<NewPhoto, LiveError> {
    let invalid = |why: String| LiveError::InvalidPhoto(why);
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png)) => f,
        _ => return Err(invalid("the body is not a JPEG or PNG image".into())),
    };
    // The JPEG decoder makes do with what it has of a file cut short (grey
    // where the rest should be): a JPEG must run whole to its end marker.
    if format == ImageFormat::Jpeg && !jpeg_is_whole(bytes) {
        return Err(invalid(
            "the JPEG image is cut short (no end-of-image marker after its last scan)".into(),
        ));
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let what = if format == ImageFormat::Jpeg {
        "JPEG"
    } else {
        "PNG"
    };
    let bad = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => too_large(),
        e => invalid(format!("the {what} image does not decode: {e}")),
    };
    let mut decoder = reader.into_decoder().map_err(bad)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(invalid(format!("the {what} image has no pixels")));
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(too_large());
    }
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(bad)?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    if img.width().max(img.height()) > DISPLAY_SIDE {
        img = img.resize(DISPLAY_SIDE, DISPLAY_SIDE, FilterType::Triangle);
    }
    let rgb = on_white(img);
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(|e| LiveError::Worker(format!("cannot encode a photo as JPEG: {e}")))?;
    Ok(NewPhoto {
        media_type: PHOTO_MEDIA_TYPE.to_string(),
        width: rgb.width(),
        height: rgb.height(),
        bytes: out,
    })
}

/// Whether a JPEG's segments run whole from its start marker to its end
/// marker: each segment as long as it says, each scan's entropy-coded data
/// up to the next marker (past stuffed `FF 00`s and restart markers).
/// Whatever follows the end marker (a phone's motion clip) is not looked at.
fn jpeg_is_whole(b: &[u8]) -> bool {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let mut i = 2;
    loop {
        // A marker: 0xFF (fill bytes may repeat it), then its code.
        if b.get(i) != Some(&0xFF) {
            return false;
        }
        while b.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&code) = b.get(i) else {
            return false;
        };
        i += 1;
        match code {
            0xD9 => return true,
            // Markers without a segment: restarts, TEM.
            0xD0..=0xD7 | 0x01 => continue,
            0x00 | 0xD8 => return false,
            _ => {}
        }
        let Some(len) = b
            .get(i..i + 2)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            return false;
        };
        if len < 2 || i + len > b.len() {
            return false;
        }
        i += len;
        if code == 0xDA {
            // A scan's data: up to the next marker.
            loop {
                match (b.get(i), b.get(i + 1)) {
                    (Some(0xFF), Some(0x00 | 0xD0..=0xD7)) => i += 2,
                    (Some(0xFF), Some(0xFF)) => i += 1,
                    (Some(0xFF), Some(_)) => break,
                    (Some(_), _) => i += 1,
                    (None, _) => return false,
                }
            }
        }
    }
}

/// The image in 8-bit RGB, any transparency laid over white (a JPEG has no
/// alpha channel).
fn on_white(img: DynamicImage) -> image::RgbImage {
    if !img.color().has_alpha() {
        return img.into_rgb8();
    }
    let rgba = img.into_rgba8();
    let (w, h) = rgba.dimensions();
    image::RgbImage::from_fn(w, h, |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}

impl Live {
    /// Checks, before an upload is read, that `who` may add a photo to
    /// event `id` as the city has it now (the store checks again when it
    /// keeps the photo).
    pub fn may_add_photo(&self, who: &Actor, id: u64) -> Result<(), LiveError> {
        let store = self.store()?;
        match self.city().event(id) {
            Some(event) => Ok(check_photo(who, event.unit)?),
            // Reported on another server a moment ago: the store decides.
            None if store.is_shared() => Ok(()),
            None => Err(LiveError::UnknownEvent(id)),
        }
    }

    /// Adds an uploaded photo (the bytes as sent) to event `id` as `who`:
    /// decoded and made ready for display on a blocking thread (at most
    /// [`PHOTO_TURNS`] at once), then kept.
    pub async fn add_photo(
        self: &Arc<Self>,
        who: Actor,
        id: u64,
        bytes: Vec<u8>,
    ) -> Result<PhotoRef, LiveError> {
        self.may_add_photo(&who, id)?;
        let store = self.store()?.clone();
        let photo = {
            let _turn = self
                .photo_turns
                .acquire()
                .await
                .map_err(|e| LiveError::Worker(format!("photo turns closed: {e}")))?;
            tokio::task::spawn_blocking(move || display_photo(&bytes))
                .await
                .map_err(|e| LiveError::Worker(format!("decoding a photo failed: {e}")))??
        };
        let base = self.city().event(id);
        // Kept on a task of its own: a caller that goes away does not
        // leave the answer unknown to the store.
        let info = tokio::spawn(async move {
            store
                .add_photo(who, id, base, photo, onemap_core::time::now())
                .await
        })
        .await
        .map_err(|e| LiveError::Worker(format!("keeping a photo failed: {e}")))?
        .map_err(|e| match e {
            StoreError::UnknownEvent(id) => LiveError::UnknownEvent(id),
            e => e.into(),
        })?;
        Ok(info.into())
    }

    /// Photo `seq` of event `id` (its JPEG bytes), for `reader`: only one
    /// who may read the event's text ([`may_read`]) sees its photos.
    pub async fn photo(&self, reader: &Actor, id: u64, seq: u8) -> Result<Vec<u8>, LiveError> {
        let store = self.store()?;
        let (unit, routed_to) = match store.event(id).await? {
            Some((rec, _)) => (rec.event.unit, rec.routed_to),
            None => (
                self.city()
                    .event(id)
                    .ok_or(LiveError::UnknownEvent(id))?
                    .unit,
                None,
            ),
        };
        if !may_read(reader, unit, routed_to.as_deref()) {
            return Err(LiveError::Forbidden(format!(
                "the photos of event {id} are for readers whose scope covers it; this token's is {}",
                reader.scope
            )));
        }
        let found = match seq {
            1..=MAX_PHOTOS => store.photo(id, seq).await?,
            _ => None,
        };
        found
            .map(|p| p.bytes)
            .ok_or(LiveError::UnknownPhoto { event: id, seq })
    }

    /// The photos of event `id`, for its page.
    pub(crate) async fn photo_refs(&self, id: u64) -> Result<Vec<PhotoRef>, LiveError> {
        let store = self.store()?;
        Ok(store
            .photos(id)
            .await?
            .into_iter()
            .map(PhotoRef::from)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn gradient(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        }))
    }

    fn decoded(p: &NewPhoto) -> DynamicImage {
        image::load_from_memory_with_format(&p.bytes, ImageFormat::Jpeg).unwrap()
    }

    #[test]
    fn a_large_photo_is_scaled_to_the_display_size_keeping_its_shape() {
        let p = display_photo(&encode(&gradient(2000, 1500), ImageFormat::Png)).unwrap();
        assert_eq!((p.width, p.height), (1280, 960));
        assert_eq!(p.media_type, "image/jpeg");
        let d = decoded(&p);
        assert_eq!((d.width(), d.height()), (1280, 960));
        // A tall one too.
        let p = display_photo(&encode(&gradient(600, 3000), ImageFormat::Jpeg)).unwrap();
        assert_eq!((p.width, p.height), (256, 1280));
    }

    #[test]
    fn a_small_photo_keeps_its_size() {
        let p = display_photo(&encode(&gradient(64, 48), ImageFormat::Jpeg)).unwrap();
        assert_eq!((p.width, p.height), (64, 48));
        assert_eq!(&p.bytes[..2], &[0xFF, 0xD8], "a JPEG");
    }

    #[test]
    fn transparency_is_laid_over_white() {
        let clear = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            8,
            8,
            image::Rgba([0, 0, 0, 0]),
        ));
        let p = display_photo(&encode(&clear, ImageFormat::Png)).unwrap();
        let px = decoded(&p).to_rgb8().get_pixel(4, 4).0;
        assert!(px.iter().all(|c| *c > 240), "{px:?}");
    }

    #[test]
    fn what_is_not_a_whole_jpeg_or_png_is_refused() {
        let png = encode(&gradient(300, 200), ImageFormat::Png);
        let jpeg = encode(&gradient(300, 200), ImageFormat::Jpeg);
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
        for (what, bytes) in [
            ("text", b"hello, not an image".to_vec()),
            ("empty", Vec::new()),
            ("gif", gif),
            ("cut png", png[..png.len() / 2].to_vec()),
            ("cut jpeg", jpeg[..jpeg.len() / 2].to_vec()),
            ("jpeg head", jpeg[..40].to_vec()),
        ] {
            let e = display_photo(&bytes).unwrap_err();
            assert!(matches!(e, LiveError::InvalidPhoto(_)), "{what}: {e}");
        }
    }

    #[test]
    fn a_whole_jpeg_is_whole_with_whatever_follows_it() {
        let jpeg = encode(&gradient(300, 200), ImageFormat::Jpeg);
        assert!(jpeg_is_whole(&jpeg));
        let mut motion = jpeg.clone();
        motion.extend_from_slice(b"\0\0\0\x18ftypmp42 a clip after the image");
        assert!(jpeg_is_whole(&motion));
        assert!(display_photo(&motion).is_ok());
        for cut in [2, 3, 20, jpeg.len() - 300, jpeg.len() - 2, jpeg.len() - 1] {
            assert!(!jpeg_is_whole(&jpeg[..cut]), "cut at {cut}");
        }
    }

    /// A PNG that says it is 100,000 × 100,000 pixels (a decompression
    /// bomb's header) is refused before anything that size is made.
    #[test]
    fn a_decompression_bomb_is_refused_by_its_size() {
        let mut png = encode(&gradient(4, 4), ImageFormat::Png);
        // IHDR's width and height (bytes 16..24), then its CRC (29..33).
        png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        let e = display_photo(&png).unwrap_err();
        assert!(matches!(e, LiveError::PhotoTooLarge { .. }), "{e}");
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
}
