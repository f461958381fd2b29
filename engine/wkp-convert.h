/* wkp-convert.h: PyTorch interoperability.
 *
 * A PyTorch model made of an nn.LSTM (attribute "lstm") and an nn.Linear
 * head (attribute "head") has a state dict with exactly the tensor names of
 * our model file: lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0,
 * lstm.bias_hh_l0, ..._reverse for bidirectional layers, head.weight,
 * head.bias. Export it from Python with tools/export_torch.py, or:
 *
 *   np.savez("model.npz", **{k: v.cpu().numpy() for k, v in net.state_dict().items()})
 *   # or: safetensors.torch.save_file(net.state_dict(), "model.safetensors")
 *
 * Optional extra tensors (same names as in the model file) carry the rest:
 * feature_mean, feature_std [dim], mean_face [68, 2], pca.mean [2P],
 * pca.basis [K, 2P], pca.scale [K]. Whatever the state dict lacks comes from
 * a metadata JSON object, the same "metadata" object a model file holds (and
 * that wkp_model_export_npz writes beside the .npz):
 *
 *   { "features": {...feature config, default MFCC 13 x 4 sub-frames + deltas...},
 *     "fps": {"num": 25, "den": 1} or "25" or "30000/1001",
 *     "context": 2, "delay": 2, "per_clip_norm": true,
 *     "points": [48, ..., 67] or "mouth" or "all" }
 *
 * Defaults: fps 25, context derived from the LSTM input size
 * (input = dim * (2*context + 1)), delay 0, per_clip_norm false, points: the
 * mouth (48..67) when the head has <= 40 outputs, else all 68; without
 * pca.* tensors the head must output the 2P point coordinates directly
 * (identity basis, zero mean) and without feature_mean/std no global
 * normalisation is applied.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "wkp-model.h"

G_BEGIN_DECLS

#define WKP_TENSOR_MAX_DIMS 4

typedef struct {
  char   *name;
  int     ndim;
  gint64  shape[WKP_TENSOR_MAX_DIMS];
  gint64  n_elements;
  float  *data;          /* converted to float32 (from F32, F64 or F16/BF16) */
} WkpTensor;

typedef struct _WkpStateDict WkpStateDict;

/* Reads an .npz (numpy.savez, compressed or not) or a .safetensors file,
 * recognised by content. Every size is validated. */
WkpStateDict    *wkp_state_dict_load   (const char *path, GError **error);
const WkpTensor *wkp_state_dict_get    (const WkpStateDict *sd, const char *name);
/* Names in file order. */
const char * const *wkp_state_dict_names (const WkpStateDict *sd, guint *n);
void             wkp_state_dict_free   (WkpStateDict *sd);

/* Builds a model from a state dict and metadata (may be NULL). Tensor names
 * are looked up under @lstm_prefix ("lstm.") and @head_prefix ("head.");
 * NULL means those defaults. @name names the input in messages. */
WkpModel *wkp_model_from_state_dict (const WkpStateDict *sd, JsonObject *metadata, const char *lstm_prefix,
                                     const char *head_prefix, const char *name, GError **error);

/* Writes every tensor of @model as @path (.npz, one NAME.npy member per
 * tensor, names as in the model file) plus the metadata object as a JSON
 * sidecar (@path with .json), atomically. The pair converts back with
 * wkp_model_from_state_dict (sd, metadata). */
gboolean  wkp_model_export_npz      (const WkpModel *model, const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpStateDict, wkp_state_dict_free)

G_END_DECLS
