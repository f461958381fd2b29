/* wkp-error.h: error domains of the engine.
 *
 * Every module has its own GQuark domain; they share one code enum so that
 * callers (the CLI maps any user-input error to exit code 2) can switch on it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  WKP_ERROR_FAILED,        /* anything else */
  WKP_ERROR_NOT_FOUND,     /* a file or stream that is not there */
  WKP_ERROR_INVALID,       /* malformed input: bad header, wrong shape, NaN ... */
  WKP_ERROR_UNSUPPORTED,   /* valid but not handled: unknown version, codec */
  WKP_ERROR_IO,            /* read/write failure */
  WKP_ERROR_MISMATCH,      /* two inputs disagree (model vs features, sizes) */
  WKP_ERROR_CANCELLED,     /* the caller cancelled */
  WKP_ERROR_NO_FACE,       /* nothing to fit */
} WkpErrorCode;

#define WKP_IO_ERROR        (wkp_io_error_quark ())
#define WKP_MEDIA_ERROR     (wkp_media_error_quark ())
#define WKP_FEATURES_ERROR  (wkp_features_error_quark ())
#define WKP_LANDMARKS_ERROR (wkp_landmarks_error_quark ())
#define WKP_MODEL_ERROR     (wkp_model_error_quark ())
#define WKP_DATASET_ERROR   (wkp_dataset_error_quark ())
#define WKP_TRAIN_ERROR     (wkp_train_error_quark ())
#define WKP_METRICS_ERROR   (wkp_metrics_error_quark ())
#define WKP_EXPORT_ERROR    (wkp_export_error_quark ())

GQuark wkp_io_error_quark (void);
GQuark wkp_media_error_quark (void);
GQuark wkp_features_error_quark (void);
GQuark wkp_landmarks_error_quark (void);
GQuark wkp_model_error_quark (void);
GQuark wkp_dataset_error_quark (void);
GQuark wkp_train_error_quark (void);
GQuark wkp_metrics_error_quark (void);
GQuark wkp_export_error_quark (void);

/* Sets WKP_ERROR_CANCELLED (WKP_IO_ERROR) and returns TRUE when @cancellable is
 * cancelled; use at loop heads of long jobs. */
gboolean wkp_check_cancelled (GCancellable *cancellable, GError **error);

/* Progress callback of long engine jobs: @done out of @total units (total may be
 * -1 when unknown), @what a short label. Called from the worker thread. */
typedef void (*WkpProgressFunc) (gint64 done, gint64 total, const char *what, gpointer user_data);

G_END_DECLS
