/* wkp-train-net.c: forward with cache + backpropagation through time for the
 * stacked (bi)LSTM + linear head on the WkpLstm (torch.nn.LSTM) layout, in
 * float and double (the body is wkp-train-net-impl.h, included twice). */
#include "wkp-train-net.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

static void
tensor_sizes (const WkpNetShape *s, int layer, gsize sizes[4])
{
  const gsize H = s->hidden_size, in = layer == 0 ? (gsize) s->input_size : H * (s->bidirectional ? 2 : 1);
  sizes[0] = 4 * H * in;
  sizes[1] = 4 * H * H;
  sizes[2] = 4 * H;
  sizes[3] = 4 * H;
}

int
wkp_net_n_tensors (const WkpNetShape *shape)
{
  return shape->num_layers * (shape->bidirectional ? 2 : 1) * 4 + 2;
}

const char *
wkp_net_tensor_info (const WkpNetShape *shape, int tensor, gsize *offset, gsize *size, char name[64])
{
  static const char *const kinds[4] = { "weight_ih", "weight_hh", "bias_ih", "bias_hh" };
  const int dirs = shape->bidirectional ? 2 : 1;
  const gsize Hd = (gsize) shape->hidden_size * dirs;
  gsize off = 0;
  int idx = 0;
  for (int l = 0; l < shape->num_layers; l++)
    for (int d = 0; d < dirs; d++)
      {
        gsize sz[4];
        tensor_sizes (shape, l, sz);
        for (int k = 0; k < 4; k++, idx++)
          {
            if (idx == tensor)
              {
                *offset = off;
                *size = sz[k];
                g_snprintf (name, 64, "%s_l%d%s", kinds[k], l, d ? "_reverse" : "");
                return name;
              }
            off += sz[k];
          }
      }
  if (tensor == idx)
    {
      *offset = off;
      *size = (gsize) shape->output_size * Hd;
      g_snprintf (name, 64, "head.weight");
      return name;
    }
  off += (gsize) shape->output_size * Hd;
  if (tensor == idx + 1)
    {
      *offset = off;
      *size = shape->output_size;
      g_snprintf (name, 64, "head.bias");
      return name;
    }
  return NULL;
}

gsize
wkp_net_n_params (const WkpNetShape *shape)
{
  gsize off, size;
  char name[64];
  wkp_net_tensor_info (shape, wkp_net_n_tensors (shape) - 1, &off, &size, name);
  return off + size;
}

void
wkp_net_shape_of_lstm (const WkpLstm *lstm, WkpNetShape *shape)
{
  shape->input_size = lstm->input_size;
  shape->hidden_size = lstm->hidden_size;
  shape->num_layers = lstm->num_layers;
  shape->bidirectional = lstm->bidirectional;
  shape->output_size = lstm->output_size;
}

static float *
lstm_tensor (WkpLstm *lstm, int tensor)
{
  const int dirs = lstm->bidirectional ? 2 : 1;
  const int per_layer = 4 * dirs;
  if (tensor < lstm->num_layers * per_layer)
    {
      int l = tensor / per_layer, d = (tensor % per_layer) / 4, k = tensor % 4;
      switch (k)
        {
        case 0: return lstm->w_ih[l][d];
        case 1: return lstm->w_hh[l][d];
        case 2: return lstm->b_ih[l][d];
        default: return lstm->b_hh[l][d];
        }
    }
  return tensor == lstm->num_layers * per_layer ? lstm->head_w : lstm->head_b;
}

void
wkp_net_to_lstm (const WkpNetShape *shape, const float *params, WkpLstm *lstm)
{
  for (int t = 0; t < wkp_net_n_tensors (shape); t++)
    {
      gsize off, size;
      char name[64];
      wkp_net_tensor_info (shape, t, &off, &size, name);
      memcpy (lstm_tensor (lstm, t), params + off, size * sizeof (float));
    }
}

void
wkp_net_from_lstm (const WkpLstm *lstm, float *params)
{
  WkpNetShape shape;
  wkp_net_shape_of_lstm (lstm, &shape);
  for (int t = 0; t < wkp_net_n_tensors (&shape); t++)
    {
      gsize off, size;
      char name[64];
      wkp_net_tensor_info (&shape, t, &off, &size, name);
      memcpy (params + off, lstm_tensor ((WkpLstm *) lstm, t), size * sizeof (float));
    }
}

/* tanhf through expf: glibc's tanhf (expm1f) took a fifth of a training step;
 * this is within 1.2e-7 absolute of it and odd-symmetric, no overflow. */
static inline float
fast_tanhf (float x)
{
  float a = fabsf (x), e = expf (-2.0f * a), t = (1.0f - e) / (1.0f + e);
  return x < 0.0f ? -t : t;
}

#define R float
#define SFX f32
#define GEMM cblas_sgemm
#define EXPR expf
#define TANHR fast_tanhf
#define WS WkpNetWsF32
#define WS_STRUCT _WkpNetWsF32
#include "wkp-train-net-impl.h"
#undef R
#undef SFX
#undef GEMM
#undef EXPR
#undef TANHR
#undef WS
#undef WS_STRUCT

#define R double
#define SFX f64
#define GEMM cblas_dgemm
#define EXPR exp
#define TANHR tanh
#define WS WkpNetWsF64
#define WS_STRUCT _WkpNetWsF64
#include "wkp-train-net-impl.h"
#undef R
#undef SFX
#undef GEMM
#undef EXPR
#undef TANHR
#undef WS
#undef WS_STRUCT
