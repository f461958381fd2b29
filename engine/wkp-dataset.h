/* wkp-dataset.h: a corpus of talking-head clips as an aligned, checked,
 * cached training set (`wav2kp prepare`), and its memory-mapped reader.
 *
 * Layout of a prepared dataset folder DS:
 *
 *   DS/dataset.json          the manifest (written last, atomically): format
 *                            version, preparation params (feature config,
 *                            landmark params, model fps, seed, split
 *                            proportions), one record per clip (see
 *                            WkpDatasetClip), splits, feature mean/std and the
 *                            mean face (also in the two .npy below).
 *   DS/feature_mean.npy      float32 [D]   over the train split's feature rows
 *   DS/feature_std.npy       float32 [D]   (std floored at 1e-5)
 *   DS/mean_face.npy         float32 [68,2] canonical frame, train split frames
 *   DS/clip_feature_mean.npy float32 [n_clips, D] each clip's own feature mean
 *   DS/clip_feature_std.npy  float32 [n_clips, D] and std (NaN rows: clip not OK)
 *   DS/clips/<ID>/           one folder per clip, created complete by a rename
 *                            (ID = "<safe name>-<12 hex of the cache key>"):
 *     clip.json              the clip record (same fields as in the manifest)
 *     features.npy           float32 [T_f, D] audio features at the MODEL fps
 *     landmarks.npy          float32 [T, 68, 2] pixels at the VIDEO fps, NaN = no face
 *     normalized.npy         float32 [T, 68, 2] canonical frame (wkp-face.h), NaN = no face
 *     status.npy             uint8   [T] WkpFaceStatus
 *     transform.npy          float32 [T, 4] pixel->canonical similarity (a, b, tx, ty), NaN = no face
 *     audio.npy              float32 [N] mono 16 kHz, sample 0 = start of video frame 0
 *     envelope.npy           float32 [T] audio RMS per VIDEO frame (frame i's exact sample range)
 *
 * Two frame rates: landmarks (and envelope, status, transform) are at the
 * video's own rate (clip->fps, 25 / 29.97 / 30 ...); features are computed at
 * the dataset's fixed model rate (wkp_dataset_get_model_fps(), default 25/1,
 * `prepare --model-fps`) with wkp_features_compute (config, audio, model_fps,
 * n_feature_frames), because the model runs at a fixed internal rate.
 * n_feature_frames = ceil (video duration * model fps) where the video
 * duration is n_frames / fps. To train on clips whose video rate differs, use
 * wkp_dataset_clip_load_targets() (or wkp_track_resample()) to bring the
 * normalised landmarks onto the model grid. When both rates are equal, row i
 * of the features belongs to video frame i.
 *
 * Cache and safety: a clip's key hashes the content of its input files plus
 * everything its arrays depend on (feature config, landmark params, model fps,
 * offset fix). A clip folder appears by renaming a complete temporary folder,
 * so a killed run leaves either a whole clip or none; re-running skips clips
 * whose folder for the current key exists. Landmarks (the expensive part) are
 * reused from an older folder of the same clip when only the feature config
 * changed. Failed clips are recorded in the manifest with their error.
 *
 * A WkpDataset is immutable once opened and may be read from several threads;
 * each wkp_dataset_clip_load() returns an independent mapping.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wkp-error.h"
#include "wkp-face.h"
#include "wkp-features.h"
#include "wkp-landmarks.h"
#include "wkp-npy.h"
#include "wkp-time.h"

G_BEGIN_DECLS

#define WKP_DATASET_FORMAT_VERSION 1
#define WKP_DATASET_MANIFEST "dataset.json"

typedef enum {
  WKP_SPLIT_TRAIN = 0,
  WKP_SPLIT_VAL = 1,
  WKP_SPLIT_TEST = 2,
  WKP_SPLIT_NONE = 3,     /* not assigned (e.g. a skipped audio-only row) */
} WkpSplit;

const char *wkp_split_to_string   (WkpSplit split);        /* "train", "val", "test", "none" */
/* Accepts "train", "val", "test", "none"; FALSE for anything else. */
gboolean    wkp_split_from_string (const char *text, WkpSplit *out);

typedef enum {
  WKP_CLIP_OK = 0,        /* arrays present; may still carry flags */
  WKP_CLIP_FAILED = 1,    /* processing failed: see clip->error; no arrays */
  WKP_CLIP_SKIPPED = 2,   /* not a training clip (e.g. audio-only row); no arrays */
} WkpClipStatus;

const char *wkp_clip_status_to_string (WkpClipStatus status);  /* "ok", "failed", "skipped" */

/* Alignment / quality flags (bit mask). */
typedef enum {
  WKP_CLIP_FLAG_OFFSET          = 1 << 0,  /* |estimated A/V offset| >= 2 frames, confident, and better than 0 */
  WKP_CLIP_FLAG_OFFSET_UNSURE   = 1 << 1,  /* correlation too weak to estimate, or the peak at the search edge */
  WKP_CLIP_FLAG_LOW_FACE_RATE   = 1 << 2,  /* fraction of frames with a face below the threshold */
  WKP_CLIP_FLAG_LENGTH_MISMATCH = 1 << 3,  /* audio and video durations differ by more than the threshold */
  WKP_CLIP_FLAG_AUDIO_INVERTED  = 1 << 4,  /* a channel in antiphase was inverted before the down-mix */
  WKP_CLIP_FLAG_IRREGULAR_TIMING = 1 << 5, /* frames' timestamps stray from k/fps (variable rate, dropped frames) */
  WKP_CLIP_FLAG_LOW_AUDIO_RATE  = 1 << 6,  /* the sound was sampled below 16 kHz (telephone audio: upper bands silent) */
} WkpClipFlags;

/* "offset,low-face-rate" ("" when none); caller frees. */
char *wkp_clip_flags_to_string (guint flags);

typedef struct {
  int            index;           /* position in the dataset */
  char          *id;              /* folder name under clips/ (NULL unless OK) */
  char          *name;            /* source video (or pattern) path as given, relative to SRC: unique */
  char          *speaker;
  WkpSplit       split;
  WkpClipStatus  status;
  char          *error;           /* FAILED / SKIPPED: why */
  char          *video_path;      /* absolute source paths (audio_path NULL = video's own audio) */
  char          *audio_path;
  WkpRational    fps;             /* video frame rate: rate of landmarks, status, transform, envelope */
  gint64         n_frames;        /* T: video frames */
  gint64         n_feature_frames;/* T_f: feature rows at the dataset's model fps */
  gint64         n_samples;       /* audio samples at 16 kHz (audio.npy) */
  int            width;           /* video frame size in pixels */
  int            height;
  gint64         n_face_frames;   /* frames with a face */
  double         face_rate;       /* n_face_frames / n_frames */
  double         audio_seconds;   /* decoded audio length (before padding/trimming) */
  double         video_seconds;   /* n_frames / fps */
  /* A/V offset estimate (video frames). Positive: the audio lags the video
   * (sound comes `offset_frames` frames after the matching mouth motion). */
  int            offset_frames;
  double         offset_confidence; /* 0..1, see wkp_av_offset_estimate() */
  double         offset_peak_r;   /* Pearson r at the best lag */
  double         offset_gain;     /* WkpAvOffset.gain: peak_r - r at lag 0 */
  int            offset_applied;  /* frames the features/audio were shifted by (prepare --fix-offset), else 0 */
  guint          flags;           /* WkpClipFlags */
  int            audio_inverted;  /* source channels inverted before the down-mix (see WkpAudio) */
  int            audio_rate;      /* the sound's own sample rate, Hz, before resampling to 16 kHz; 0
                                   * unknown (a dataset prepared before 8 Dec 2026) */
  double         timing_error_ms; /* how far the video's frame timestamps lie from k/fps at most
                                   * (WkpMediaInfo.timing_error_us); NaN unknown (no video, or a
                                   * dataset prepared before 7 Dec 2026) */
  double        *feature_mean;    /* [D] this clip's feature mean / std (per-clip normalisation), NULL unless OK */
  double        *feature_std;
} WkpDatasetClip;

typedef struct _WkpDataset WkpDataset;

/* Opens DIR (or DIR/dataset.json). Validates the manifest; arrays are mapped
 * lazily by wkp_dataset_clip_load(). */
WkpDataset   *wkp_dataset_open              (const char *dir, GError **error);
void          wkp_dataset_free              (WkpDataset *ds);

const char   *wkp_dataset_get_dir           (const WkpDataset *ds);
int           wkp_dataset_n_clips           (const WkpDataset *ds);
const WkpDatasetClip *wkp_dataset_get_clip  (const WkpDataset *ds, int index);
/* A short name for every clip (in dataset order): the shortest tail of its
 * name, in path components, that no other clip's name shares ("bbaf2n.mpg",
 * "sa1/%03d", "fadg0/video/sa1/%03d" when sa1 is not unique). g_strfreev. */
char        **wkp_dataset_short_names       (const WkpDataset *ds);
/* The same for any @n '/'-separated names (distinct ones stay distinct). */
char        **wkp_path_short_names          (const char * const *names, int n);
/* Index of the clip whose name is @name, or -1. */
int           wkp_dataset_find_clip         (const WkpDataset *ds, const char *name);
/* Indices of the OK clips of @split (WKP_SPLIT_NONE: every OK clip). Free with g_array_unref. */
GArray       *wkp_dataset_split_indices     (const WkpDataset *ds, WkpSplit split);
/* Distinct speakers of @split among OK clips (WKP_SPLIT_NONE: all), sorted. g_strfreev. */
char        **wkp_dataset_speakers          (const WkpDataset *ds, WkpSplit split);

const WkpFeatureConfig  *wkp_dataset_get_feature_config  (const WkpDataset *ds);
const WkpLandmarkParams *wkp_dataset_get_landmark_params (const WkpDataset *ds);
int           wkp_dataset_get_feature_dim   (const WkpDataset *ds);   /* D */
WkpRational   wkp_dataset_get_model_fps     (const WkpDataset *ds);   /* rate of features.npy rows */
/* Feature mean/std over the train split's rows, [D] each. */
const float  *wkp_dataset_get_feature_mean  (const WkpDataset *ds);
const float  *wkp_dataset_get_feature_std   (const WkpDataset *ds);
/* Mean normalised face over the train split's frames, [68, 2]. */
const float  *wkp_dataset_get_mean_face     (const WkpDataset *ds);
/* The manifest as parsed (read-only). */
JsonNode     *wkp_dataset_get_manifest      (const WkpDataset *ds);

typedef enum {
  WKP_CLIP_ARRAY_FEATURES,     /* float32 [T_f, D] (model fps) */
  WKP_CLIP_ARRAY_LANDMARKS,    /* float32 [T, 68, 2] pixels */
  WKP_CLIP_ARRAY_NORMALIZED,   /* float32 [T, 68, 2] canonical */
  WKP_CLIP_ARRAY_STATUS,       /* uint8   [T] */
  WKP_CLIP_ARRAY_TRANSFORM,    /* float32 [T, 4] */
  WKP_CLIP_ARRAY_AUDIO,        /* float32 [N] 16 kHz */
  WKP_CLIP_ARRAY_ENVELOPE,     /* float32 [T] */
} WkpClipArray;

/* File name of an array inside a clip folder ("features.npy", ...). */
const char *wkp_clip_array_filename  (WkpClipArray which);
/* Absolute path of a clip's array (NULL unless the clip is OK). */
char       *wkp_dataset_clip_path    (const WkpDataset *ds, int index, WkpClipArray which);
/* Memory-maps one array of an OK clip, checking dtype and shape against the
 * clip record, and the values where they have a contract: features and audio
 * finite, status codes valid (one linear scan; landmarks, normalized and
 * transform may hold NaN). No decoding. Free with wkp_npy_free. */
WkpNpy     *wkp_dataset_clip_load    (const WkpDataset *ds, int index, WkpClipArray which,
                                      GError **error);
/* Maps every array of an OK clip and checks dtypes, shapes and values as
 * wkp_dataset_clip_load() does (what `wav2kp check` does per clip); FALSE
 * with the first problem. */
gboolean    wkp_dataset_clip_verify  (const WkpDataset *ds, int index, GError **error);
/* The clip's normalised landmarks resampled onto the model-fps grid, aligned
 * with features.npy rows: float32 [T_f, 68, 2], NaN where no face. A copy
 * (g_free); *n_out receives T_f. */
float      *wkp_dataset_clip_load_targets (const WkpDataset *ds, int index, gint64 *n_out,
                                           GError **error);

/* Resamples a track of @n_in frames at @from_fps, @width floats per frame, to
 * @n_out frames at @to_fps: output frame j takes the value at its centre time
 * (j + 0.5) / to_fps by linear interpolation between the two nearest input
 * frame centres (clamped at the ends). NaN-aware: when one of the two
 * neighbours is NaN the other is used if it is the nearer one (or exactly
 * halfway), else the output is NaN. Exact for
 * equal rates (a copy). Returns newly allocated [n_out, width]. */
float  *wkp_track_resample       (const float *in, gint64 n_in, int width, WkpRational from_fps,
                                  WkpRational to_fps, gint64 n_out);
/* Frames at @to_fps covering @n_in frames at @from_fps: ceil (n_in * from_period / to_period). */
gint64  wkp_track_resample_length (gint64 n_in, WkpRational from_fps, WkpRational to_fps);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpDataset, wkp_dataset_free)

/* ------------------------------------------------------------------------ */
/* Alignment checks                                                          */

/* RMS of @audio over each frame's exact sample range at @fps
 * (wkp_frame_to_sample); frames past the end of the audio get 0. Returns
 * float32 [n_frames]. */
float   *wkp_audio_envelope (const float *audio, gint64 n_samples, int rate, WkpRational fps,
                             gint64 n_frames);

/* Speech-band (300-3000 Hz) energy per video frame, as used for the offset
 * estimate: each frame's exact sample range, symmetric Hann window, FFT of
 * the next power of two >= the range (libavutil av_tx), sqrt (sum of |X|^2
 * over bins lo <= f < hi / range length). Frames without audio get 0. */
float   *wkp_audio_band_envelope (const float *audio, gint64 n_samples, int rate, WkpRational fps,
                                  gint64 n_frames, double lo_hz, double hi_hz);

typedef struct {
  int     offset_frames;   /* lag with the highest correlation; > 0: audio lags video */
  double  peak_r;          /* Pearson r at that lag */
  double  r_zero;          /* Pearson r at lag 0 */
  double  null_mean;       /* r of the two tracks circularly shifted far apart (no relation) */
  double  null_sd;
  double  z;               /* (peak_r - null_mean) / null_sd: is there any A/V relation at all */
  double  gain;            /* peak_r - r_zero: how much better the best lag explains the mouth than lag 0 */
  double  confidence;      /* 0..1 = clamp ((z - 2) / 3): 0 below z = 2, 1 from z = 5; NaN if no null */
  gint64  n_used;          /* frames used at the best lag */
  double  r[64];           /* r at lags -max_lag..max_lag (index lag + max_lag); NaN if undefined */
  int     max_lag;
} WkpAvOffset;

/* Cross-correlates the audio envelope @env with the inner-lip aperture @aperture
 * (both [n] at the video fps, NaN = unknown) over lags -max_lag..max_lag
 * (max_lag <= 31): r(k) = Pearson (env[t], aperture[t - k]) over frames where
 * both are known. The null distribution comes from up to 40 circular shifts
 * of @env by 2*max_lag .. n - 2*max_lag frames. Fails (WKP_ERROR_INVALID) when
 * fewer than 2*max_lag+10 frames are usable.
 * `prepare` feeds it log10 (band envelope + 1e-4) and the inner-lip aperture
 * and flags OFFSET when |offset| >= 2, confidence >= min_offset_confidence and
 * gain >= min_offset_gain; OFFSET_UNSURE when confidence < min_offset_confidence. */
gboolean wkp_av_offset_estimate (const float *env, const float *aperture, gint64 n, int max_lag,
                                 WkpAvOffset *out, GError **error);
/* `prepare`'s estimate for a clip: its 16 kHz sound @audio (sample 0 = the
 * start of frame 0) against the inner-lip aperture of its landmarks @points
 * ([n_frames, 68, 2] in pixels, NaN = no face), within ±@max_lag frames. */
gboolean wkp_clip_offset_estimate (const float *audio, gint64 n_audio, WkpRational fps, const float *points,
                                   gint64 n_frames, int max_lag, WkpAvOffset *out, GError **error);

/* ------------------------------------------------------------------------ */
/* Preparation                                                               */

/* One clip of a source listing. */
typedef struct {
  char *name;        /* video path as written (relative to SRC), or the audio path for audio-only rows */
  char *video;       /* absolute path or pattern; NULL for audio-only */
  char *audio;       /* absolute path of a separate audio file, or NULL */
  char *speaker;     /* never NULL: the CSV's label, or the folder name / file stem */
  int   audio_late;  /* the CSV's audio_late: the sound comes this many frames late (0: none given) */
} WkpSourceEntry;

void wkp_source_entry_free (WkpSourceEntry *entry);

/* RFC 4180 CSV (quoted fields with commas, doubled quotes and newlines; CRLF
 * or LF; optional UTF-8 BOM). Returns rows as GStrv in a GPtrArray (with
 * g_strfreev as free func). @name is for messages. */
GPtrArray *wkp_csv_parse (const char *text, gsize length, const char *name, GError **error);

/* Lists the clips of @src: a manifest CSV with a header containing `video`
 * and optionally `audio`, `speaker` (paths relative to the CSV's folder,
 * image-sequence patterns allowed) and `audio_late` (whole frames, empty =
 * 0: a sound found late in the studio, moved back by prepare), or a folder (every video file found
 * recursively, paired with a same-named .wav beside it or in a sibling wav/
 * folder; speaker = the parent folder's name). GPtrArray of WkpSourceEntry. */
GPtrArray *wkp_dataset_list_sources (const char *src, GError **error);

typedef struct {
  WkpFeatureConfig  features;
  WkpLandmarkParams landmarks;
  WkpRational model_fps;         /* features' rate (25/1) */
  WkpRational sequence_fps;      /* image sequences; 0/0: as their frames.json says, else 25/1 */
  int      n_jobs;               /* worker threads (1) */
  guint64  seed;                 /* split seed (1) */
  double   val_fraction;         /* share of the held-out-eligible speakers' frames (0.15) */
  double   test_fraction;        /* (0.15) */
  double   dominant_share;       /* speakers with more than this share of all frames always go to train (0.25) */
  char   **train_speakers;       /* extra speakers pinned to train (NULL-terminated, may be NULL) */
  gboolean fix_offset;           /* shift audio+features by confidently estimated offsets with |offset| >= offset_flag */
  int      max_lag;              /* offset search range in frames (10) */
  int      offset_flag;          /* flag |offset| >= this (2) */
  double   min_offset_confidence;/* below: OFFSET_UNSURE, no offset flag (0.2) */
  double   min_offset_gain;      /* the best lag must beat lag 0 by this much correlation (0.08) */
  double   min_face_rate;        /* flag below (0.9) */
  double   max_length_mismatch;  /* seconds (0.2) */
  gboolean retry_failed;         /* re-run clips recorded as failed with the same key (FALSE) */
  gboolean replace;              /* prepare into a dataset made from another source, deleting its clips
                                  * that this source does not list (FALSE: refused) */
} WkpPrepareParams;

void wkp_prepare_params_init_default (WkpPrepareParams *params);

typedef struct {
  int     n_clips;        /* sources listed */
  int     n_ok;
  int     n_failed;
  int     n_skipped;      /* not training clips (audio-only) */
  int     n_cached;       /* OK clips reused without recomputation */
  int     n_computed;     /* clips (re)computed in this run */
  int     n_failed_recorded; /* failed clips taken from an earlier run's failure record (not tried again) */
  int     n_flagged;
  int     n_landmarks_reused; /* recomputed clips whose landmarks came from an older folder */
  gint64  n_frames;       /* video frames over OK clips */
  gint64  n_feature_frames;
  int     n_removed;      /* clip folders of the dataset that the source no longer lists, deleted */
  int     n_superseded;   /* older folders of clips it still lists (other settings or inputs), deleted */
  int     n_duplicates;   /* OK clips whose video and sound are those of a clip in another split */
  char    duplicate_example[512]; /* the first such pair, "A (val) = B (train)", or "" */
} WkpPrepareReport;

/* Prepares @src (folder or CSV) into the folder @out (created if needed).
 * Clip errors are recorded, not returned; FALSE only for errors that stop
 * the whole run (unreadable source list, unwritable output, cancellation).
 * @progress is called from worker threads, serialised. */
gboolean wkp_dataset_prepare (const char *src, const char *out, const WkpPrepareParams *params,
                              WkpProgressFunc progress, gpointer progress_data,
                              GCancellable *cancellable, WkpPrepareReport *report, GError **error);

/* Splits speakers: @speakers[i] with @frames[i] frames. Pinned speakers go
 * to train, and so do speakers above dominant_share of the total (largest
 * first, as long as three speakers remain eligible); the rest are shuffled
 * with @seed (GRand) and each joins the split furthest below its share
 * (val_fraction, test_fraction, the rest train) of the eligible frames and
 * speakers (the mean of the two relative shortfalls); val and
 * test get at least one speaker each when three or more are eligible.
 * Deterministic for a seed, independent of the input order.
 * Returns WkpSplit [n] (g_free). */
WkpSplit *wkp_dataset_assign_splits (const char * const *speakers, const gint64 *frames, int n,
                                     const WkpPrepareParams *params);

/* wkp_dataset_clip_verify() of every OK clip: one entry per clip, the error
 * message of a damaged clip, else NULL; @n_damaged (may be NULL) counts them. */
GPtrArray *wkp_dataset_verify_all (const WkpDataset *ds, int *n_damaged);

/* For `wav2kp check --json`: every clip with name, speaker, split, status,
 * offset, confidence, gain and flags; a clip with a @damage message (from
 * wkp_dataset_verify_all()) gets the flag "damaged" and the message. */
JsonNode *wkp_dataset_check_json (const WkpDataset *ds, GPtrArray *damage);

G_END_DECLS
