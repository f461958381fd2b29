/* wkp-train-net.h: the trainable stacked (bi)LSTM + linear head.
 *
 * Parameters live in one flat vector laid out tensor after tensor in the
 * torch.nn.LSTM order: for each layer l and direction d, weight_ih, weight_hh,
 * bias_ih, bias_hh (gate order i, f, g, o), then head.weight [out, H*dirs] and
 * head.bias [out]. wkp_net_to_lstm() copies that vector into a WkpLstm, so a
 * saved model runs exactly the weights that were trained.
 *
 * Forward and backward (backpropagation through time) work on a batch of B
 * sequences of T steps, time-major: x [T, B, in], y [T, B, out]. OpenBLAS
 * gemm computes the input projections of all steps at once, the recurrent
 * products per step, and the weight gradients of all steps at once. The same
 * code is compiled for float (_f32, used for training) and double (_f64, used
 * by the finite-difference gradient check).
 */
#pragma once

#include <glib.h>

#include "wkp-lstm.h"

G_BEGIN_DECLS

typedef struct {
  int      input_size;
  int      hidden_size;
  int      num_layers;
  gboolean bidirectional;
  int      output_size;
} WkpNetShape;

/* Tensors in order; names follow PyTorch ("weight_ih_l0", "bias_hh_l1_reverse",
 * "head.weight", "head.bias"). */
int          wkp_net_n_tensors     (const WkpNetShape *shape);
const char  *wkp_net_tensor_info   (const WkpNetShape *shape, int tensor, gsize *offset, gsize *size,
                                    char name[64]);
gsize        wkp_net_n_params      (const WkpNetShape *shape);
void         wkp_net_shape_of_lstm (const WkpLstm *lstm, WkpNetShape *shape);
/* Copies between the flat vector and a WkpLstm of the same shape. */
void         wkp_net_to_lstm       (const WkpNetShape *shape, const float *params, WkpLstm *lstm);
void         wkp_net_from_lstm     (const WkpLstm *lstm, float *params);

typedef struct _WkpNetWsF32 WkpNetWsF32;
typedef struct _WkpNetWsF64 WkpNetWsF64;

/* Workspace for up to @max_tb = T * B (steps times sequences). */
WkpNetWsF32 *wkp_net_ws_new_f32    (const WkpNetShape *shape, gint64 max_tb);
void         wkp_net_ws_free_f32   (WkpNetWsF32 *ws);
/* @x [T, B, in] -> @y [T, B, out]; caches what backward needs. */
void         wkp_net_forward_f32   (WkpNetWsF32 *ws, const float *params, const float *x, int T, int B,
                                    float *y);
/* Gradient of the loss w.r.t. every parameter (@grad overwritten) given @dy
 * [T, B, out], for the x of the last forward call. */
void         wkp_net_backward_f32  (WkpNetWsF32 *ws, const float *params, const float *x, const float *dy,
                                    float *grad);
/* Masked MSE in output space (optionally per-component weights @w [out]),
 * plus @vel_weight times the MSE of first differences along time:
 *   L = sum m w (y-z)^2 / (N K) + vel sum m_t m_{t-1} w (dy-dz)^2 / (N_v K)
 * @mask [T, B] (1 counts, 0 ignored; NULL: all). Writes dL/dy into @dy if
 * non-NULL. Returns L (0 when nothing counts). */
double       wkp_net_loss_f32      (const float *y, const float *z, const float *mask, int T, int B, int K,
                                    const float *w, double vel_weight, float *dy);

WkpNetWsF64 *wkp_net_ws_new_f64    (const WkpNetShape *shape, gint64 max_tb);
void         wkp_net_ws_free_f64   (WkpNetWsF64 *ws);
void         wkp_net_forward_f64   (WkpNetWsF64 *ws, const double *params, const double *x, int T, int B,
                                    double *y);
void         wkp_net_backward_f64  (WkpNetWsF64 *ws, const double *params, const double *x, const double *dy,
                                    double *grad);
double       wkp_net_loss_f64      (const double *y, const double *z, const double *mask, int T, int B, int K,
                                    const double *w, double vel_weight, double *dy);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpNetWsF32, wkp_net_ws_free_f32)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpNetWsF64, wkp_net_ws_free_f64)

G_END_DECLS
