/* wkp-cli.h: the headless `wav2kp` command line, one file per subcommand.
 *
 * Each subcommand is `int wkp_cli_NAME (int argc, char **argv)` where argv[0]
 * is the subcommand name. Exit codes: 0 success, 2 bad input or any error
 * reported by the engine (the message names the file and the problem), 1 for
 * an internal failure. Outputs are written atomically by the engine.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "wkp-features.h"
#include "wkp-media.h"
#include "wkp-model.h"

G_BEGIN_DECLS

#define WKP_EXIT_OK 0
#define WKP_EXIT_FAILURE 1
#define WKP_EXIT_BAD_INPUT 2

typedef int (*WkpCliFunc) (int argc, char **argv);

typedef struct {
  const char *name;
  WkpCliFunc  func;
  const char *summary;
  gboolean    own_files;   /* updates its own files in place (a cache, a checkpoint) or writes only
                            * scratch files: its outputs are not checked against its inputs */
} WkpCliCommand;

/* Prints "wav2kp NAME: message" on stderr, frees @error, returns 2. */
int      wkp_cli_fail          (const char *command, GError *error);
/* Prints @path's model description (JSON) on standard output; the exit status. */
int      wkp_cli_describe_model (const char *command, const char *path);
/* "clip" or "clips" for @n (messages said "1 clips", "1 speakers") */
#define WKP_CLI_PLURAL(n, one, many) ((n) == 1 ? (one) : (many))
/* Whether @output ends in @suffix (".wav"); else prints "wav2kp COMMAND:
 * OUT: the output is WHAT and must end in SUFFIX" and returns FALSE. Every
 * output is checked by its kind: under another name a reader would take it
 * for what its name says, and arguments given in the wrong order (-o
 * clip.mpg out.wav) would replace an input with it. */
gboolean wkp_cli_check_suffix  (const char *command, const char *output, const char *what, const char *suffix);
/* Parses options; on failure prints the problem and returns FALSE. */
gboolean wkp_cli_parse         (GOptionContext *ctx, const char *command, int *argc, char ***argv);

/* Checks the arguments shared by commands that read one clip and write
 * OUT.npy + OUT.json (features, predict): exactly one FILE in @files, an
 * output, --fps (into @spec->fps), and that OUT and its .json sidecar can be
 * written. Sets @spec->video and *@json_path (free it). On failure prints
 * one line and returns FALSE (exit with WKP_EXIT_BAD_INPUT). */
gboolean wkp_cli_clip_args     (const char *command, char **files, const char *output, const char *fps_text,
                                WkpSourceSpec *spec, char **json_path);
/* Opens the sidecar object of such an output and writes its common members
 * (kind, version, source, audio_source, fps, frames, frame_time); the caller
 * adds its own members and calls json_builder_end_object(). */
void     wkp_cli_sidecar_begin (JsonBuilder *b, const char *kind, const char *source, const WkpClipAudio *clip);
/* The sidecar of predicted keypoints (`predict`, `demo`): the common members,
 * then space ("canonical" or "pixels", with @pixels_from unless NULL), model,
 * model_fps, resampling, model_info and seconds. */
JsonNode *wkp_cli_prediction_sidecar (const char *source, const WkpClipAudio *clip, const WkpModel *model,
                                      const char *model_path, const char *pixels_from, double seconds);

/* The feature options shared by `features` and `prepare` (--kind,
 * --subframes, --window-ms, --n-fft, --mels, --mfcc, --fmin, --fmax,
 * --preemphasis, --deltas): _add puts them in @ctx's main group, parsing
 * into @config (whose values are the defaults); after parsing, _apply sets
 * the kind and validates @config, printing one line and returning FALSE when
 * it is bad. */
typedef struct {
  WkpFeatureConfig *config;
  char             *kind;
} WkpCliFeatureOptions;
void     wkp_cli_feature_options_add   (GOptionContext *ctx, WkpCliFeatureOptions *o, WkpFeatureConfig *config);
gboolean wkp_cli_feature_options_apply (WkpCliFeatureOptions *o, const char *command);
void     wkp_cli_feature_options_clear (WkpCliFeatureOptions *o);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (WkpCliFeatureOptions, wkp_cli_feature_options_clear)

/* After a clip is loaded: a note on stderr when --fps (@fps_text) was given
 * for a video, whose own frame rate is used (--fps sets the rate of
 * audio-only input and image sequences). */
void     wkp_cli_note_ignored_fps (const char *command, const char *fps_text, const WkpClipAudio *clip);
/* The down-mix inverted a channel in antiphase: say so on stderr. */
void     wkp_cli_note_audio_mix   (const char *command, const WkpClipAudio *clip);
/* @text in a table column of @width characters (not bytes: a name is never
 * cut inside a character, and non-ASCII names keep the columns in line),
 * control characters shown as spaces, cut at the end with "..." (or,
 * @keep_end, at the start) and padded with spaces; on standard output. */
void     wkp_cli_print_cell       (const char *text, glong width, gboolean keep_end);
/* --audio-late FRAMES, shared by features, predict and render: the text
 * (NULL: 0) read as a decimal whole number, or a message and FALSE. */
gboolean wkp_cli_parse_audio_late (const char *command, const char *text, int *frames);
#define WKP_CLI_AUDIO_LATE_HELP \
  "The sound comes FRAMES frames after the pictures (negative: before), as `wav2kp check` estimates: " \
  "move it back into place first, as prepare --fix-offset does"

/* A single progress line on stderr, redrawn at most 10 times a second, and
 * only when stderr is a terminal. Pass wkp_cli_progress_update as a
 * WkpProgressFunc with the progress as user data. */
typedef struct _WkpCliProgress WkpCliProgress;
WkpCliProgress *wkp_cli_progress_new    (const char *label);
void            wkp_cli_progress_update (gint64 done, gint64 total, const char *what, gpointer progress);
void            wkp_cli_progress_free   (WkpCliProgress *progress);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpCliProgress, wkp_cli_progress_free)

/* The model used when --model is not given: $WKP_MODEL, else the model in the
 * build tree (when run uninstalled), else the installed one. NULL with an error
 * when none exists. */
char    *wkp_cli_default_model (GError **error);

/* Subcommands. */
int wkp_cli_probe     (int argc, char **argv);
int wkp_cli_audio     (int argc, char **argv);
int wkp_cli_features  (int argc, char **argv);
int wkp_cli_landmarks (int argc, char **argv);
int wkp_cli_frames    (int argc, char **argv);
int wkp_cli_predict   (int argc, char **argv);
int wkp_cli_stream    (int argc, char **argv);
int wkp_cli_convert   (int argc, char **argv);
int wkp_cli_ensemble  (int argc, char **argv);
int wkp_cli_prepare   (int argc, char **argv);
int wkp_cli_check     (int argc, char **argv);
int wkp_cli_train     (int argc, char **argv);
int wkp_cli_evaluate  (int argc, char **argv);
int wkp_cli_bench     (int argc, char **argv);
int wkp_cli_render    (int argc, char **argv);
int wkp_cli_demo      (int argc, char **argv);

/* Benchmarks (app/bench-NAME.c), run as `wav2kp bench NAME`. */
int wkp_bench_features  (int argc, char **argv);
int wkp_bench_landmarks (int argc, char **argv);
int wkp_bench_lstm      (int argc, char **argv);
int wkp_bench_prepare   (int argc, char **argv);
int wkp_bench_train     (int argc, char **argv);
int wkp_bench_evaluate  (int argc, char **argv);

G_END_DECLS
