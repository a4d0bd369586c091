//! Timecode maths (frame rates, drop-frame labels, frames ↔ samples). Filled by the audio work.
