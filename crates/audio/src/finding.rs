//! Findings: what the checker says about a file, each with a stable code for machines and a
//! message in plain words (with amounts) for people.

use serde::Serialize;

/// How much a finding weighs: any error rejects the file; warnings never do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! codes {
    ($($variant:ident => $text:literal,)*) => {
        /// Stable identifiers of findings. The string form is part of the JSON output.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)* }
            }

            /// Every code, for documentation and tests.
            pub const ALL: &'static [Code] = &[$(Self::$variant,)*];
        }
    };
}

codes! {
    // Could not check
    Unreadable => "unreadable",
    // Container
    NotWave => "not_wave",
    FileTooLarge => "file_too_large",
    RiffSizeMismatch => "riff_size_mismatch",
    RiffSizeUnfinalised => "riff_size_unfinalised",
    Ds64Missing => "ds64_missing",
    Ds64Short => "ds64_short",
    ChunkTruncated => "chunk_truncated",
    ChunkIdInvalid => "chunk_id_invalid",
    TooManyChunks => "too_many_chunks",
    PadMissing => "pad_missing",
    PadNonZero => "pad_nonzero",
    TrailingBytes => "trailing_bytes",
    MetadataLimit => "metadata_limit",
    // fmt
    FmtMissing => "fmt_missing",
    FmtDuplicate => "fmt_duplicate",
    FmtShort => "fmt_short",
    FmtSizeUnusual => "fmt_size_unusual",
    FmtAfterData => "fmt_after_data",
    UnsupportedEncoding => "unsupported_encoding",
    ZeroChannels => "zero_channels",
    ZeroSampleRate => "zero_sample_rate",
    UnsupportedBits => "unsupported_bits",
    BlockAlignMismatch => "block_align_mismatch",
    ByteRateMismatch => "byte_rate_mismatch",
    ValidBitsZero => "valid_bits_zero",
    ValidBitsDiffer => "valid_bits_differ",
    ChannelMaskMismatch => "channel_mask_mismatch",
    ExtensibleCbSize => "extensible_cb_size",
    FactMismatch => "fact_mismatch",
    // data
    DataMissing => "data_missing",
    DataDuplicate => "data_duplicate",
    DataSizeUnfinalised => "data_size_unfinalised",
    DataEmpty => "data_empty",
    DataTruncated => "data_truncated",
    PartialFrame => "partial_frame",
    // metadata
    BextShort => "bext_short",
    BextReservedNonZero => "bext_reserved_nonzero",
    BextText => "bext_text",
    BextLoudnessDiffers => "bext_loudness_differs",
    IxmlMalformed => "ixml_malformed",
    IxmlTooLarge => "ixml_too_large",
    // profile
    WrongEncoding => "wrong_encoding",
    WrongBits => "wrong_bits",
    WrongSampleRate => "wrong_sample_rate",
    WrongChannels => "wrong_channels",
    // length
    LengthMismatch => "length_mismatch",
    LengthUnknown => "length_unknown",
    LengthNotChecked => "length_not_checked",
    DurationOutOfRange => "duration_out_of_range",
    // naming
    NameExtension => "name_extension",
    NamePattern => "name_pattern",
    NameKindChannels => "name_kind_channels",
    NameTitle => "name_title",
    NameTalent => "name_talent",
    NameCharacters => "name_characters",
    // QC
    QcSkipped => "qc_skipped",
    QcClipping => "qc_clipping",
    QcFlatTops => "qc_flat_tops",
    QcTruePeakOver => "qc_true_peak_over",
    QcTruePeakLimit => "qc_true_peak_limit",
    QcDcOffset => "qc_dc_offset",
    QcNoiseFloor => "qc_noise_floor",
    QcNonFinite => "qc_non_finite",
    QcSilent => "qc_silent",
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing the checker found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    #[serde(skip)]
    pub severity: Severity,
    pub message: String,
}

impl Finding {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Warning,
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Formats an integer with thousands separators: 240240 → "240,240".
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1 sample", "2 samples".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", group(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(2002), "2,002");
        assert_eq!(group(240_240), "240,240");
        assert_eq!(group(1_431_655_765), "1,431,655,765");
        assert_eq!(plural(1, "frame", "frames"), "1 frame");
        assert_eq!(plural(2002, "sample", "samples"), "2,002 samples");
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "{c}");
            assert!(
                c.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '_' || ch.is_ascii_digit())
            );
        }
    }
}
