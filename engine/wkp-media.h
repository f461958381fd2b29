/* wkp-media.h: probing and decoding through FFmpeg (libavformat/libavcodec,
 * libswresample for audio, libswscale for pictures).
 *
 * A "source" is what a clip is made of: a video file, an image sequence
 * (printf pattern such as dir/%06d.jpg or dir/%03d, read at a given fps), or
 * nothing (audio-only); plus its audio, either the video's own stream or a
 * separate file. Audio is returned aligned to video time 0: sample 0 is the
 * instant at which video frame 0 starts.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wkp-error.h"
#include "wkp-time.h"

G_BEGIN_DECLS

#define WKP_AUDIO_RATE 16000
#define WKP_DEFAULT_FPS WKP_RATIONAL (25, 1)

typedef struct {
  char       *path;
  char       *container;        /* FFmpeg demuxer name(s), "image2" for sequences */
  gint64      duration_us;      /* -1 when unknown */
  gboolean    is_image_sequence;

  gboolean    has_video;
  char       *video_codec;
  int         width;
  int         height;
  WkpRational fps;              /* exact rational */
  gint64      n_frames;         /* counted when the probe was asked to, else estimated */
  gboolean    n_frames_counted;
  gint64      video_start_us;
  gint64      timing_error_us;  /* counted probes: how far the frames' timestamps lie from
                                 * k/fps at most (a variable frame rate); 0 unknown */
  gboolean    resampled;        /* counted probes: the timing is irregular, so frame k is
                                 * the picture on screen at k/fps (wkp_video_reader): some
                                 * pictures repeat or drop, and n_frames counts that grid */
  gint64      n_decoded;        /* counted probes: the pictures in the file */
  gint64      n_shown;          /* resampled: the pictures some frame shows (the others are
                                 * dropped; n_frames - n_shown frames repeat a picture) */
  gint64      video_first_pts;  /* resampled: the earliest picture's timestamp, in the stream's
                                 * time base (the grid's origin) */
  gboolean    timing_jumps;     /* counted probes: irregular because the timestamps jump (start
                                 * again, or span more than twice the pictures' time): read one
                                 * picture per frame, not resampled */
  gboolean    fps_from_base;    /* counted probes: fps is the stream's base rate, which reads its
                                 * timestamps as regular where FFmpeg's estimated average (1000/33
                                 * for 30 fps in Matroska's milliseconds) did not */

  gboolean    has_audio;
  char       *audio_codec;
  int         sample_rate;
  int         channels;
  gint64      audio_start_us;
} WkpMediaInfo;

typedef enum {
  WKP_PROBE_DEFAULT = 0,
  WKP_PROBE_COUNT_FRAMES = 1 << 0,  /* read every video packet to count frames exactly */
} WkpProbeFlags;

/* @fps is used for image sequences only ({0,0}: 25 fps). */
WkpMediaInfo *wkp_media_probe          (const char *path, WkpRational fps, WkpProbeFlags flags,
                                        GError **error);
void          wkp_media_info_free      (WkpMediaInfo *info);

/* When the frames of a counted probe lie more than a quarter frame (and
 * 5 ms) from a constant rate (a variable frame rate, or dropped frames),
 * what that means, for a note; else NULL. Such a video is read on the
 * constant grid by its timestamps: frame k is the picture on screen at
 * k/fps, so pictures repeat over a gap and drop where they crowd. */
char         *wkp_media_timing_note    (const WkpMediaInfo *info);
/* The rule of that note: @error_us beyond a quarter frame at @fps and 5 ms. */
gboolean      wkp_media_timing_irregular (gint64 error_us, WkpRational fps);
JsonNode     *wkp_media_info_to_json   (const WkpMediaInfo *info);
/* Silences FFmpeg's own logging (set WKP_FFMPEG_DEBUG to keep it); called by
 * every entry point that opens a file. */
void          wkp_ffmpeg_init          (void);
/* TRUE when @path contains a printf-style frame number (%d, %03d ...). */
gboolean      wkp_media_is_pattern     (const char *path);
/* The image-sequence pattern that @frame_path is one frame of: the last run
 * of digits in its file name becomes %0Nd (e.g. dir/000123.jpg ->
 * dir/%06d.jpg, VidTIMIT's dir/042 -> dir/%03d), provided a neighbouring
 * number exists too and the sequence starts at 0..5 (what the image reader
 * accepts). NULL when @frame_path is not part of such a sequence. */
char         *wkp_media_sequence_for_frame (const char *frame_path);
/* The pattern of the numbered pictures in @folder (a folder `wav2kp frames`
 * wrote: FOLDER/%06d.png), or NULL when it holds no such sequence. */
char         *wkp_media_folder_sequence    (const char *folder);
/* The frame rate an image sequence @pattern is read at: @given when valid,
 * else the rate `wav2kp frames` recorded in the frames.json beside it, else
 * WKP_DEFAULT_FPS (what wkp_media_probe() reads it at). */
WkpRational   wkp_media_sequence_rate  (const char *pattern, WkpRational given);
/* Whether such a frames.json records @pattern's rate (then in @fps, which
 * may be NULL). */
gboolean      wkp_media_sequence_recorded_rate (const char *pattern, WkpRational *fps);
/* The audio that goes with a silent video the way talking-face corpora store
 * it: a same-named .wav beside it (clip.mp4 -> clip.wav), else in a sibling
 * wav/ folder (video/clip.mp4 -> wav/clip.wav). NULL if neither exists. */
char         *wkp_media_companion_wav  (const char *video);
/* That WAV only when @video is a video without an audio stream (two stat()
 * calls; the video's headers are probed only when such a WAV exists), else
 * NULL: how prepare's CSV rows and the studio pair a silent video. */
char         *wkp_media_silent_video_companion (const char *video);
/* Copies the audio and video streams of @path, without decoding, into a
 * Matroska file @out_path (timestamps from FFmpeg's demuxer, shifted so that
 * the earliest stream starts at 0). The studio plays MPEG program streams
 * through such a copy: GStreamer's demuxer times and seeks them by the pack
 * clock, which jumps in GRID's files. @out_path is removed on failure or
 * when @cancellable (may be NULL; checked between packets) is cancelled
 * (WKP_ERROR_CANCELLED). */
gboolean      wkp_media_remux          (const char *path, const char *out_path, GCancellable *cancellable,
                                        GError **error);
/* TRUE when @path starts with an MPEG program stream pack header (what
 * GRID's .mpg and DVD-style files are): 4 bytes read, no demuxer opened. */
gboolean      wkp_media_is_mpeg_ps     (const char *path);

/* What a file's first bytes say it is, for the files of ours and others that
 * FFmpeg could mistake for headerless audio. */
typedef enum {
  WKP_FILE_OTHER,   /* for FFmpeg to recognise, or not */
  WKP_FILE_NPY,     /* NumPy array */
  WKP_FILE_MODEL,   /* wav2kp model (.wkpm) */
  WKP_FILE_TEXT,    /* JSON (a sidecar) or CSV-like text */
} WkpFileKind;

WkpFileKind   wkp_file_sniff           (const char *path);
/* Whether the @n bytes at @p read as text: printable ASCII, tab, CR, LF or
 * UTF-8 (a character may be cut at the end); TRUE for @n = 0. */
gboolean      wkp_bytes_look_like_text (const guint8 *p, gsize n);

/* Audio streams outside these rates are refused as damaged headers, and
 * decoding stops with an error past this length. */
#define WKP_AUDIO_MIN_RATE 4000
#define WKP_AUDIO_MAX_RATE 768000
#define WKP_AUDIO_MAX_SECONDS (6 * 3600)

typedef struct {
  float  *samples;    /* mono float32 in [-1, 1] */
  gint64  n_samples;
  int     rate;
  int     channels;           /* of the source; 0 when not decoded from a file */
  int     source_rate;        /* the source's sample rate; 0 when not decoded from a file */
  guint64 inverted_channels;  /* bit c: channel c (< 64) was in antiphase with
                               * reference_channel and was inverted before the mix */
  int     reference_channel;  /* 0, or the loudest channel when channel 0 is
                               * more than 20 dB below it */
} WkpAudio;

/* Decodes the first audio stream of @path to mono float32 at @rate Hz
 * (libswresample resamples; the down-mix is the average of the channels,
 * except that a channel in antiphase with the first (or with the loudest,
 * when the first is 20 dB quieter), correlation below -0.5 over the first
 * 10 s of sound, is inverted first: see inverted_channels). Trusts
 * content, not the extension. If @start_us is non-NULL it receives the
 * stream start time. */
WkpAudio *wkp_audio_load        (const char *path, int rate, gint64 *start_us,
                                 GCancellable *cancellable, GError **error);
WkpAudio *wkp_audio_new         (gint64 n_samples, int rate);
/* A sentence for the user when @audio (decoded from @path) was sampled
 * below WKP_AUDIO_RATE: it holds nothing above half its rate, where the
 * features' upper bands lie (they read silence); else NULL. */
char     *wkp_audio_rate_note   (const WkpAudio *audio, const char *path);
/* A sentence for the user when the down-mix inverted a channel of @audio
 * (decoded from @path), else NULL. */
char     *wkp_audio_mix_note    (const WkpAudio *audio, const char *path);

/* The down-mix of wkp_audio_load() for audio that arrives piece by piece
 * (`wav2kp stream`): @n_channels interleaved channels at @rate Hz to mono,
 * with the polarities decided once @decide_seconds of sound (above -60
 * dBFS) have arrived, or @hold_seconds of any samples; until then the
 * samples are held back (mono input is never held). */
typedef struct _WkpAudioMixer WkpAudioMixer;
WkpAudioMixer *wkp_audio_mixer_new    (int n_channels, int rate, double decide_seconds, double hold_seconds);
void           wkp_audio_mixer_free   (WkpAudioMixer *mixer);
/* Appends to @out (floats) the mono samples of @x (@n frames of every
 * channel) that can be given out now. */
void           wkp_audio_mixer_push   (WkpAudioMixer *mixer, const float *x, gint64 n, GArray *out);
/* At the end of input: decides on what is held, and appends it to @out. */
void           wkp_audio_mixer_finish (WkpAudioMixer *mixer, GArray *out);
gboolean       wkp_audio_mixer_decided (const WkpAudioMixer *mixer);
/* wkp_audio_mix_note()'s sentence once decided, else NULL. */
char          *wkp_audio_mixer_note   (const WkpAudioMixer *mixer, const char *name);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpAudioMixer, wkp_audio_mixer_free)
void      wkp_audio_free        (WkpAudio *audio);
/* @audio moved @frames video frames at @fps earlier against its pictures, in
 * place, as `prepare --fix-offset` corrects a clip whose offset `check`
 * estimates as +@frames (negative: a sound that comes early is moved later).
 * Its length changes by as much; frame k's window then reads the sound that
 * belongs to picture k. */
void      wkp_audio_shift_frames (WkpAudio *audio, int frames, WkpRational fps);

/* What a clip is made of. */
typedef struct {
  const char *video;   /* video file, image pattern, or NULL for audio-only */
  const char *audio;   /* separate audio file, or NULL to use the video's own audio */
  WkpRational fps;     /* image sequences and audio-only; {0,0}: 25/1 */
  /* how the caller's user names a separate audio file, for the message about
   * a source without sound; NULL: "give its audio with --audio FILE" (the
   * commands' option; prepare says "name its audio in the list's audio
   * column") */
  const char *audio_hint;
} WkpSourceSpec;

/* A clip's audio aligned to its video frames. */
typedef struct {
  WkpMediaInfo *video_info;   /* NULL for audio-only */
  WkpAudio     *audio;        /* sample 0 = start of video frame 0 */
  WkpRational   fps;
  gint64        n_frames;     /* video frames (counted), or ceil(audio/fps) for audio-only */
  char         *audio_source; /* the file the audio came from */
  gboolean      companion;    /* audio_source is a silent video's WAV found beside it */
  int           audio_late;   /* frames the sound was moved earlier (wkp_clip_audio_fix_late) */
} WkpClipAudio;

WkpClipAudio *wkp_clip_audio_load (const WkpSourceSpec *spec, int rate, GCancellable *cancellable,
                                   GError **error);
/* The clip's sound for people rather than the model: aligned exactly like
 * wkp_clip_audio_load's (sample 0 = video frame 0), mono, at the source's own
 * rate when AAC has it (16 to 48 kHz; else the next one up). @n_frames (> 0)
 * is the clip's frame count from an earlier reading, checked again. */
WkpAudio     *wkp_clip_audio_load_for_listening (const WkpSourceSpec *spec, gint64 n_frames,
                                                 GCancellable *cancellable, GError **error);
/* A clip's name for titles and captions: the video's (else the audio's) file
 * name; an image sequence's folder with the two above it. */
char         *wkp_media_display_name (const char *video, const char *audio);
void          wkp_clip_audio_free (WkpClipAudio *clip);
/* Moves the clip's sound @frames frames earlier against its pictures
 * (wkp_audio_shift_frames), for a sound that comes @frames frames late
 * (negative: early), and records it in audio_late. Refused for a clip
 * without pictures (nothing to move it against) and for |@frames| not
 * shorter than the clip. */
gboolean      wkp_clip_audio_fix_late (WkpClipAudio *clip, int frames, const char *name, GError **error);
/* An audio-only clip's frames at @fps instead (its frame count follows);
 * FALSE, and nothing changed, for a clip with video. */
gboolean      wkp_clip_audio_set_fps (WkpClipAudio *clip, WkpRational fps);

/* Sequential reader of video frames as packed RGB24 or GRAY8. Frame indices
 * count decoded frames from 0; timestamps are the exact frame starts on the
 * rational grid (pts_us keeps the stream's own timestamp). A video whose
 * counted probe finds irregular timing (info->resampled) is read on the
 * grid instead: frame k is the last picture whose timestamp rounds to a
 * frame start at or before k/fps (the picture on screen then, as FFmpeg's
 * fps filter with round=near picks it), n_frames of them. */
typedef enum {
  WKP_PIXEL_RGB24,
  WKP_PIXEL_GRAY8,
} WkpPixelFormat;

typedef struct {
  const guint8 *data;
  int           width;
  int           height;
  int           stride;
  gint64        index;
  gint64        time_us;   /* wkp_frame_to_us (index, fps) */
  gint64        pts_us;    /* stream timestamp relative to the first frame, -1 if none */
} WkpFrame;

typedef struct _WkpVideoReader WkpVideoReader;

WkpVideoReader *wkp_video_reader_open   (const char *path, WkpRational fps, WkpPixelFormat format,
                                         GError **error);
const WkpMediaInfo *wkp_video_reader_get_info (WkpVideoReader *reader);
/* Returns FALSE at the end (error unset) or on error (error set). The frame's
 * data stays valid until the next call. */
gboolean        wkp_video_reader_next   (WkpVideoReader *reader, WkpFrame *frame, GError **error);
/* Positions the reader so that the next frame returned is @index. */
gboolean        wkp_video_reader_seek   (WkpVideoReader *reader, gint64 index, GError **error);
void            wkp_video_reader_free   (WkpVideoReader *reader);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpMediaInfo, wkp_media_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpAudio, wkp_audio_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpClipAudio, wkp_clip_audio_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpVideoReader, wkp_video_reader_free)

G_END_DECLS
