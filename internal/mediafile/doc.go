// Package mediafile holds the container code shared by the file sources
// (capture/filesrc) and file sinks (playback/filesink): IVF, Y4M and WAV
// headers and frames, and packet splitting for Ogg/Opus on top of pion's
// oggreader. Parsers bound every size they read, so a corrupt or hostile
// file gives an error, not a huge allocation.
package mediafile
