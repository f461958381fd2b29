#include "wkp-error.h"

#include <gio/gio.h>

G_DEFINE_QUARK (wkp-io-error-quark, wkp_io_error)
G_DEFINE_QUARK (wkp-media-error-quark, wkp_media_error)
G_DEFINE_QUARK (wkp-features-error-quark, wkp_features_error)
G_DEFINE_QUARK (wkp-landmarks-error-quark, wkp_landmarks_error)
G_DEFINE_QUARK (wkp-model-error-quark, wkp_model_error)
G_DEFINE_QUARK (wkp-dataset-error-quark, wkp_dataset_error)
G_DEFINE_QUARK (wkp-train-error-quark, wkp_train_error)
G_DEFINE_QUARK (wkp-metrics-error-quark, wkp_metrics_error)
G_DEFINE_QUARK (wkp-export-error-quark, wkp_export_error)

gboolean
wkp_check_cancelled (GCancellable *cancellable, GError **error)
{
  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      g_set_error_literal (error, WKP_IO_ERROR, WKP_ERROR_CANCELLED, "Operation was cancelled");
      return TRUE;
    }
  return FALSE;
}
