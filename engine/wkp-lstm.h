/* wkp-lstm.h: stacked (bi)LSTM + linear head, PyTorch layout.
 *
 * Weights follow torch.nn.LSTM exactly: for layer l and direction d
 * (0 forward, 1 reverse) w_ih [4H, in_l], w_hh [4H, H], b_ih [4H], b_hh [4H],
 * gate order i, f, g, o; in_0 = input_size, in_l = H * dirs for l > 0.
 * The head is torch.nn.Linear: head_w [out, H*dirs], head_b [out].
 * Arrays are row-major float32.
 */
#pragma once

#include <glib.h>

#include "wkp-error.h"

G_BEGIN_DECLS

#define WKP_LSTM_MAX_LAYERS 8

typedef struct {
  int      input_size;
  int      hidden_size;
  int      num_layers;
  gboolean bidirectional;
  int      output_size;
  float   *w_ih[WKP_LSTM_MAX_LAYERS][2];
  float   *w_hh[WKP_LSTM_MAX_LAYERS][2];
  float   *b_ih[WKP_LSTM_MAX_LAYERS][2];
  float   *b_hh[WKP_LSTM_MAX_LAYERS][2];
  float   *head_w;
  float   *head_b;
  /*< private >*/
  gboolean owns_weights;   /* TRUE when allocated by wkp_lstm_new, FALSE when they point into a mapped model */
} WkpLstm;

/* Allocates zeroed weights. */
WkpLstm *wkp_lstm_new          (int input_size, int hidden_size, int num_layers, gboolean bidirectional,
                                int output_size);
void     wkp_lstm_free         (WkpLstm *lstm);
int      wkp_lstm_layer_input  (const WkpLstm *lstm, int layer);   /* in_l */
gsize    wkp_lstm_n_params     (const WkpLstm *lstm);

/* Whole-sequence forward: @x [T, input_size] -> @y [T, output_size]. Uses
 * OpenBLAS sgemm for the input projections of all steps at once with
 * @n_threads threads (0: leave OpenBLAS's setting). */
gboolean wkp_lstm_forward      (const WkpLstm *lstm, const float *x, gint64 T, float *y, int n_threads,
                                GError **error);
/* The same computed with plain loops, no BLAS: the reference used in tests. */
gboolean wkp_lstm_forward_ref  (const WkpLstm *lstm, const float *x, gint64 T, float *y, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpLstm, wkp_lstm_free)

G_END_DECLS
