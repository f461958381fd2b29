/* Helpers shared by the test suites. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Adds a fixed --seed to the arguments unless one is given, before
 * g_test_init: the random data the suites draw (g_test_rand_*) is then the
 * same in every run, so a failure is the code's, and it reproduces. (A run
 * in 30 of the model suite drew a network that failed a tolerance with a
 * fresh seed per run; `--seed=R02S...` from a failing log reproduces one.) */
void        wkp_test_fixed_seed  (int *argc, char ***argv);

/* ../shared/data (or $WKP_SHARED_DATA). When absent, marks the current test
 * skipped with a clear message and returns NULL. */
const char *wkp_test_shared_data (void);
/* Absolute path of a file in the shared data, or NULL + skip. */
char       *wkp_test_shared_file (const char *relative);

/* Debian's /usr/bin/python3 with numpy/scipy/torch (not the pyenv one).
 * Returns NULL and skips when it or @module is missing. */
const char *wkp_test_python      (const char *module);
/* Runs `python3 SCRIPT ARGS...` (SCRIPT relative to tests/), asserting exit
 * status 0; returns its stdout. */
char       *wkp_test_run_python  (const char *script, const char * const *args);

/* A fresh temporary folder removed at exit. */
char       *wkp_test_tmpdir      (void);

/* Path of the built CLI. */
const char *wkp_test_cli         (void);
/* Runs the CLI with @args (NULL-terminated); returns exit status, stdout/err. */
int         wkp_test_run_cli     (const char * const *args, char **out, char **err);

/* Writes a 16-bit PCM mono WAV. */
void        wkp_test_write_wav   (const char *path, const float *samples, gsize n, int rate);
/* The same, after @pad samples of silence: a sound that comes late. */
void        wkp_test_write_wav_delayed (const char *path, const float *samples, gsize n, int rate, gsize pad);
/* @samples: @n_frames interleaved frames of @channels 16-bit PCM samples */
void        wkp_test_write_wav_channels (const char *path, const float *samples, gsize n_frames, int channels,
                                         int rate);

/* A copy of @text with each U+2212 minus sign (as the README prints
 * negative numbers) replaced by '-'. */
char       *wkp_test_ascii_minus (const char *text);

/* max |a[i] - b[i]| over @n floats, in double. */
double      wkp_test_max_abs_diff (const float *a, const float *b, gsize n);

/* Uniform random floats in [lo, hi) from the test's random generator. */
void        wkp_test_random_fill (float *data, gsize n, float lo, float hi);

/* Peak memory of a piece of work (Linux): wkp_test_peak_reset() lowers the
 * process's peak resident set (VmHWM) to its current size, which it returns
 * in bytes; wkp_test_peak_rss() is the peak since, in bytes. Both return -1
 * where /proc/self/clear_refs or VmHWM is unavailable (then skip). */
gint64      wkp_test_peak_reset  (void);
gint64      wkp_test_peak_rss    (void);

G_END_DECLS
