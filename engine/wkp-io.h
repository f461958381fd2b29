/* wkp-io.h: safe output and small file helpers.
 *
 * Every output of the engine is written to a temporary file in the target's
 * folder and renamed into place only when complete, so a failed or killed run
 * never leaves a half-written file and never destroys an existing one.
 * WkpOutput groups several files (e.g. OUT.npy + OUT.json) that are committed
 * together.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

G_BEGIN_DECLS

/* Writes @bytes to @path via a temporary file + rename. */
gboolean  wkp_write_file_atomic   (const char *path, GBytes *bytes, GError **error);

typedef struct _WkpOutput WkpOutput;

WkpOutput *wkp_output_new        (void);
/* Writes @bytes to a temporary file beside @path; nothing is visible at
 * @path until wkp_output_commit(). */
gboolean   wkp_output_add_bytes  (WkpOutput *out, const char *path, GBytes *bytes, GError **error);
gboolean   wkp_output_add_json   (WkpOutput *out, const char *path, JsonNode *node, GError **error);
/* Reserves a temporary path beside @path for a writer that streams to it
 * (e.g. an encoder); returns the temporary path (owned by @out). */
const char *wkp_output_add_stream (WkpOutput *out, const char *path, GError **error);
/* Opens a temporary beside @path for a document written in pieces, one too
 * large to build in memory first (a long landmark track as JSON or CSV):
 * write to the returned stream with stdio, then wkp_output_finish_file()
 * flushes, syncs and closes it, reporting any write error (a full disk).
 * The stream belongs to @out, which closes it and removes the temporary if
 * it is never finished or committed. */
FILE      *wkp_output_add_file    (WkpOutput *out, const char *path, GError **error);
gboolean   wkp_output_finish_file (WkpOutput *out, FILE *fp, GError **error);
/* Renames every temporary into place. */
gboolean   wkp_output_commit     (WkpOutput *out, GError **error);
/* Removes the temporaries that were not committed. */
void       wkp_output_free       (WkpOutput *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpOutput, wkp_output_free)

/* Fails early (before any heavy work) when @path cannot be created: its folder
 * is missing or not writable, or @path is a folder, a device, a pipe or a
 * socket (renaming over it would replace it with a regular file). */
gboolean   wkp_check_output_path (const char *path, GError **error);
/* wkp_check_output_path() for a file written beside @main_output under a
 * name the user did not give (OUT.json, OUT.status.npy, MODEL.csv): an
 * existing one may be replaced only when @main_output exists too (a re-run
 * of the same output) or it is one of ours (a sidecar whose "kind" starts
 * with "wav2kp.", a landmark track's sidecar, a training log); otherwise it
 * is someone else's file — `train -o
 * clips.wkpm` replaced the clips.csv the dataset was made from with its log,
 * `features -o DS/dataset.npy` the dataset's dataset.json. */
gboolean   wkp_check_side_output (const char *side, const char *main_output, GError **error);

/* Inputs of a job. Once wkp_io_track_inputs (TRUE) is called (the CLI does,
 * a run being one job), every file the engine reads (wkp_read_file, .npy,
 * model files, media) is remembered, and an output that would replace one
 * of them — by any name — is refused when it is written or committed, so
 * `-o` pointing at an input (or an output's sidecar landing on one) never
 * destroys it. */
void       wkp_io_track_inputs   (gboolean enable);
void       wkp_io_note_input     (const char *path);
/* Installs SIGINT, SIGTERM and SIGHUP handlers that remove the temporaries
 * of outputs not yet committed, then let the signal kill the process (the
 * command line does: a killed run leaves no ".NAME.XXXXXX.part" files). */
void       wkp_io_remove_temps_on_signal (void);
/* Installs @handler (async-signal-safe) for SIGINT, SIGTERM and SIGHUP
 * instead, for a command that stops cleanly at its next step (train); it may
 * call wkp_io_remove_temps_on_signal() so that a second signal kills. */
void       wkp_io_on_stop_signals (void (*handler) (int));
/* A temporary folder (flat: files only) removed, with its files, by those
 * handlers while it is registered. */
void       wkp_io_register_temp_dir   (const char *dir);
void       wkp_io_unregister_temp_dir (const char *dir);
/* A folder this run made (@dir) that those handlers remove, with its files,
 * when @content (a folder inside it) holds nothing once the temporaries are
 * gone: a run stopped before it finished anything leaves no folder behind;
 * one that finished some work keeps it (prepare's dataset, resumable). One
 * at a time; NULL unregisters. */
void       wkp_io_register_new_folder (const char *dir, const char *content);
/* Creates a folder from @templ (a path whose last XXXXXX is replaced) with @mode (the
 * umask applies), registered as above *before* it exists, so that a signal
 * between the two cannot leave it behind (mkdtemp, then registering, could).
 * Returns its path, or NULL with errno's message in @error. */
char      *wkp_io_make_temp_dir       (const char *templ, int mode, GError **error);
/* Removes @dir's files, then @dir; async-signal-safe. */
gboolean   wkp_io_remove_flat_dir     (const char *dir);
/* Whether @a and @b name the same existing file (any links or spellings). */
gboolean   wkp_path_same_file    (const char *a, const char *b);

/* TRUE when @path ends in @suffix, ignoring ASCII case (".NPY" is ".npy"). */
gboolean   wkp_path_has_suffix   (const char *path, const char *suffix);

/* "out/x.npy" + ".json" -> "out/x.json"; "out/x" + ".json" -> "out/x.json". */
char      *wkp_path_replace_ext  (const char *path, const char *ext);

/* JSON helpers: numbers are written locale-independently by json-glib. */
char      *wkp_json_to_string    (JsonNode *node, gboolean pretty);
JsonNode  *wkp_json_load_file    (const char *path, GError **error);
/* json_parser_load_from_data() for untrusted input: json-glib recurses once
 * per nesting level, so a document nested deeper than WKP_JSON_MAX_DEPTH
 * is refused (a JSON_PARSER_ERROR) before parsing instead of overflowing
 * the stack. */
#define WKP_JSON_MAX_DEPTH 256
gboolean   wkp_json_parser_load  (JsonParser *parser, const char *data, gsize len, GError **error);
GBytes    *wkp_json_to_bytes     (JsonNode *node);
/* Type checks for values read from files users may edit: json-glib's getters
 * warn (a critical) on a node of another kind and return 0. NULL is no number. */
gboolean   wkp_json_node_is_number  (JsonNode *node);        /* an integer or a real */
gboolean   wkp_json_node_is_integer (JsonNode *node, gint64 min, gint64 max);
double     wkp_json_node_get_number (JsonNode *node);        /* of a number node */
/* Byte ranges of named blocks in a file (tensors): wkp_extents_find_overlap()
 * sorts @extents (WkpExtent) and returns the first block that begins inside
 * the one before it (*@before), or NULL when they are disjoint. */
typedef struct {
  gint64      begin, end;
  const char *name;
} WkpExtent;
const WkpExtent *wkp_extents_find_overlap (GArray *extents, const WkpExtent **before);

/* The string member @key of @o; NULL when absent or not a string. */
const char *wkp_json_get_string     (JsonObject *o, const char *key);

/* FALSE (with "PATH: is not a regular file (a device, pipe or socket)" in
 * @domain) when @path exists and is neither a regular file nor a folder:
 * opening a pipe waits for a writer and /dev/zero never ends. Call it before
 * opening or mapping an input; missing files and folders are left to the
 * open, whose error wkp_set_file_error words. */
gboolean   wkp_check_input_file  (const char *path, GQuark domain, GError **error);

/* The first bytes of a regular file (up to @size) into @buf, for sniffing a
 * format; 0 for anything else (missing, a folder, a pipe: no waiting). */
gsize      wkp_read_head         (const char *path, void *buf, gsize size);

/* Reads a whole file; a missing file is WKP_ERROR_NOT_FOUND in WKP_IO_ERROR. */
GBytes    *wkp_read_file         (const char *path, GError **error);

/* Turns a GFileError from opening/mapping @path into one clear line in @domain:
 * "PATH: no such file" (WKP_ERROR_NOT_FOUND), "PATH: is a folder, not a file",
 * "PATH: permission denied", else GLib's message. */
void       wkp_set_file_error    (GError **error, GQuark domain, const char *path, const GError *local);

G_END_DECLS
