/* wkp-dlib-bridge.cpp: dlib's HOG face detector and 68-point shape predictor
 * behind a C API (wkp-dlib-bridge.h). The only C++ in the engine: every
 * exception is caught here and returned as a GError. */
#include "wkp-dlib-bridge.h"
#include "wkp-config.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <sys/mman.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wdeprecated-copy"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms/interpolation.h>
#pragma GCC diagnostic pop

/* A read-only view of a caller's 8-bit gray buffer as a dlib generic image
 * (the accessors are found by argument-dependent lookup). */
namespace wkp
{
struct GrayView
{
  const unsigned char *data;
  long rows, cols, stride;
};
inline long num_rows (const GrayView &img) { return img.rows; }
inline long num_columns (const GrayView &img) { return img.cols; }
inline long width_step (const GrayView &img) { return img.stride; }
inline const void *image_data (const GrayView &img) { return img.data; }
/* dlib only reads these views; the non-const overload exists for the traits. */
inline void *image_data (GrayView &img) { return const_cast<unsigned char *> (img.data); }
}

namespace dlib
{
template <> struct image_traits<wkp::GrayView>
{
  typedef unsigned char pixel_type;
};
template <> struct image_traits<const wkp::GrayView>
{
  typedef unsigned char pixel_type;
};
}

namespace
{
/* dlib's 68-point model re-packed for speed. dlib keeps every leaf of its
 * 7,500 regression trees (15 cascades x 500) as a separately allocated vector
 * in a ~100 MB heap, so each fit walks thousands of random pages and spends
 * most of its time on TLB and cache misses (8 ms a face on the reference
 * machine). Here the same numbers live in flat arrays: the leaves in one
 * huge-page backed block, read in tree order with prefetching. The arithmetic
 * is dlib's (shape_predictor::operator() and extract_feature_pixel_values in
 * dlib/image_processing/shape_predictor.h, 19.24); the test suite checks the
 * result against dlib's own predictor. Points are returned unrounded. */
struct Split
{
  guint16 idx1, idx2;
  float thresh;
};

struct Predictor
{
  float mean_shape[68 * 2];        /* initial_shape, box coordinates */
  int n_cascades = 0, n_trees = 0, n_splits = 0, n_leaves = 0, n_pixels = 0;
  std::vector<guint16> anchor;     /* [cascade][pixel] */
  std::vector<float> delta;        /* [cascade][pixel][2] */
  std::vector<Split> splits;       /* [cascade][tree][split] */
  float *leaves = nullptr;         /* [cascade][tree][leaf][136] */
  std::string path;
};

const int N_COORDS = 68 * 2;

/* Predictors loaded so far, by file; process lifetime, read-only once loaded. */
GMutex predictors_lock;
std::map<std::string, Predictor *> *predictors;

/* A pristine detector to copy from: deserialising it takes a few ms. */
GMutex detector_lock;
dlib::frontal_face_detector *detector_prototype;

/* dlib's own predictor, loaded only when asked for (tests compare with it). */
GMutex reference_lock;
std::map<std::string, dlib::shape_predictor *> *references;

float *
alloc_leaves (size_t n_floats)
{
  const size_t huge = 2u << 20;
  size_t bytes = (n_floats * sizeof (float) + huge - 1) / huge * huge;
  void *mem = nullptr;
  if (posix_memalign (&mem, huge, bytes) != 0)
    throw std::bad_alloc ();
#ifdef MADV_HUGEPAGE
  madvise (mem, bytes, MADV_HUGEPAGE);   /* a hint; fine if refused */
#endif
  return static_cast<float *> (mem);
}

void
read_model (Predictor *p, const std::string &path)
{
  std::ifstream in (path, std::ios::binary);
  if (!in)
    throw std::ios_base::failure ("cannot open");
  int version = 0;
  dlib::matrix<float, 0, 1> initial;
  std::vector<std::vector<dlib::impl::regression_tree>> forests;
  std::vector<std::vector<unsigned long>> anchor_idx;
  std::vector<std::vector<dlib::vector<float, 2>>> deltas;

  /* the layout written by dlib::serialize (const shape_predictor &) */
  dlib::deserialize (version, in);
  if (version != 1)
    throw dlib::serialization_error ("unexpected shape_predictor version");
  dlib::deserialize (initial, in);
  dlib::deserialize (forests, in);
  dlib::deserialize (anchor_idx, in);
  dlib::deserialize (deltas, in);

  if (initial.size () != N_COORDS)
    throw dlib::serialization_error ("the model does not have 68 points");
  if (forests.empty () || forests[0].empty () || anchor_idx.size () != forests.size () ||
      deltas.size () != forests.size ())
    throw dlib::serialization_error ("inconsistent cascade count");
  for (int i = 0; i < N_COORDS; i++)
    p->mean_shape[i] = initial (i);
  p->n_cascades = (int) forests.size ();
  p->n_trees = (int) forests[0].size ();
  p->n_splits = (int) forests[0][0].splits.size ();
  p->n_leaves = (int) forests[0][0].leaf_values.size ();
  p->n_pixels = (int) anchor_idx[0].size ();
  if (p->n_leaves != p->n_splits + 1 || p->n_pixels > 65535)
    throw dlib::serialization_error ("unsupported tree layout");

  p->anchor.resize ((size_t) p->n_cascades * p->n_pixels);
  p->delta.resize ((size_t) p->n_cascades * p->n_pixels * 2);
  p->splits.resize ((size_t) p->n_cascades * p->n_trees * p->n_splits);
  size_t n_leaf_floats = (size_t) p->n_cascades * p->n_trees * p->n_leaves * N_COORDS;
  p->leaves = alloc_leaves (n_leaf_floats);

  for (int c = 0; c < p->n_cascades; c++)
    {
      if ((int) forests[c].size () != p->n_trees || (int) anchor_idx[c].size () != p->n_pixels ||
          (int) deltas[c].size () != p->n_pixels)
        throw dlib::serialization_error ("cascades of different sizes");
      for (int i = 0; i < p->n_pixels; i++)
        {
          if (anchor_idx[c][i] >= 68)
            throw dlib::serialization_error ("pixel anchor out of range");
          p->anchor[(size_t) c * p->n_pixels + i] = (guint16) anchor_idx[c][i];
          p->delta[((size_t) c * p->n_pixels + i) * 2] = deltas[c][i].x ();
          p->delta[((size_t) c * p->n_pixels + i) * 2 + 1] = deltas[c][i].y ();
        }
      for (int t = 0; t < p->n_trees; t++)
        {
          const dlib::impl::regression_tree &tree = forests[c][t];
          if ((int) tree.splits.size () != p->n_splits || (int) tree.leaf_values.size () != p->n_leaves)
            throw dlib::serialization_error ("trees of different depths");
          size_t tree_index = (size_t) c * p->n_trees + t;
          for (int k = 0; k < p->n_splits; k++)
            {
              const auto &sf = tree.splits[k];
              if (sf.idx1 >= (unsigned long) p->n_pixels || sf.idx2 >= (unsigned long) p->n_pixels)
                throw dlib::serialization_error ("split pixel out of range");
              p->splits[tree_index * p->n_splits + k] = Split { (guint16) sf.idx1, (guint16) sf.idx2, sf.thresh };
            }
          for (int l = 0; l < p->n_leaves; l++)
            {
              if (tree.leaf_values[l].size () != N_COORDS)
                throw dlib::serialization_error ("leaf of the wrong size");
              float *dst = p->leaves + (tree_index * p->n_leaves + l) * N_COORDS;
              for (int k = 0; k < N_COORDS; k++)
                dst[k] = tree.leaf_values[l] (k);
            }
        }
      /* free dlib's copy cascade by cascade to keep the peak low */
      std::vector<dlib::impl::regression_tree> ().swap (forests[c]);
    }
}

Predictor *
load_predictor (const std::string &path, GError **error)
{
  g_mutex_lock (&predictors_lock);
  if (predictors == nullptr)
    predictors = new std::map<std::string, Predictor *> ();
  auto it = predictors->find (path);
  if (it != predictors->end ())
    {
      Predictor *p = it->second;
      g_mutex_unlock (&predictors_lock);
      return p;
    }
  /* Loaded under the lock: concurrent first callers wait for one load instead
   * of each reading 100 MB. */
  std::unique_ptr<Predictor> p (new Predictor ());
  p->path = path;
  if (!g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_NOT_FOUND,
                   "Cannot open the dlib shape model %s (Debian package libdlib-data)", path.c_str ());
      g_mutex_unlock (&predictors_lock);
      return nullptr;
    }
  try
    {
      read_model (p.get (), path);
    }
  catch (const std::exception &e)
    {
      free (p->leaves);
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID,
                   "%s: not a usable dlib 68-point shape model (%s)", path.c_str (), e.what ());
      g_mutex_unlock (&predictors_lock);
      return nullptr;
    }
  Predictor *raw = p.release ();
  (*predictors)[path] = raw;
  g_mutex_unlock (&predictors_lock);
  return raw;
}

/* One fit: dlib's cascade, on flat arrays. The box maps (0,0) to (left, top)
 * and (1,1) to (right, bottom), dlib's unnormalizing_tform. */
void
predict (const Predictor *p, const unsigned char *gray, long width, long height, long stride,
         double left, double top, double right, double bottom, float *out, float *pixel_values,
         guint32 *leaf_index)
{
  float shape[N_COORDS];
  const float *mean = p->mean_shape;
  const double bw = right - left, bh = bottom - top;
  double mfx = 0, mfy = 0;

  memcpy (shape, mean, sizeof shape);
  for (int i = 0; i < 68; i++)
    {
      mfx += mean[2 * i];
      mfy += mean[2 * i + 1];
    }
  mfx /= 68;
  mfy /= 68;

  for (int c = 0; c < p->n_cascades; c++)
    {
      /* similarity mean shape -> current shape (find_tform_between_shapes);
       * only its linear part is used. Least squares in closed form, double. */
      double mtx = 0, mty = 0, spp = 0, sa = 0, sb = 0;
      for (int i = 0; i < 68; i++)
        {
          mtx += shape[2 * i];
          mty += shape[2 * i + 1];
        }
      mtx /= 68;
      mty /= 68;
      for (int i = 0; i < 68; i++)
        {
          double px = mean[2 * i] - mfx, py = mean[2 * i + 1] - mfy;
          double qx = shape[2 * i] - mtx, qy = shape[2 * i + 1] - mty;
          spp += px * px + py * py;
          sa += px * qx + py * qy;
          sb += px * qy - py * qx;
        }
      const float m00 = (float) (sa / spp), m10 = (float) (sb / spp);
      const float m01 = -m10, m11 = m00;

      const guint16 *anchor = &p->anchor[(size_t) c * p->n_pixels];
      const float *delta = &p->delta[(size_t) c * p->n_pixels * 2];
      for (int i = 0; i < p->n_pixels; i++)
        {
          float dx = delta[2 * i], dy = delta[2 * i + 1];
          float vx = m00 * dx + m01 * dy + shape[2 * anchor[i]];
          float vy = m10 * dx + m11 * dy + shape[2 * anchor[i] + 1];
          double ix = left + vx * bw, iy = top + vy * bh;
          double fx = std::floor (ix + 0.5), fy = std::floor (iy + 0.5);
          if (fx >= 0 && fy >= 0 && fx < width && fy < height)
            pixel_values[i] = gray[(long) fy * stride + (long) fx];
          else
            pixel_values[i] = 0;
        }

      const size_t tree0 = (size_t) c * p->n_trees;
      for (int t = 0; t < p->n_trees; t++)
        {
          const Split *sp = &p->splits[(tree0 + t) * p->n_splits];
          int i = 0;
          while (i < p->n_splits)
            i = (pixel_values[sp[i].idx1] - pixel_values[sp[i].idx2] > sp[i].thresh) ? 2 * i + 1 : 2 * i + 2;
          leaf_index[t] = (guint32) ((tree0 + t) * p->n_leaves + (i - p->n_splits));
        }
      const int ahead = 6;
      for (int t = 0; t < p->n_trees; t++)
        {
          if (t + ahead < p->n_trees)
            {
              const char *next = (const char *) (p->leaves + (size_t) leaf_index[t + ahead] * N_COORDS);
              for (int b = 0; b < N_COORDS * 4; b += 64)
                __builtin_prefetch (next + b);
            }
          const float *leaf = p->leaves + (size_t) leaf_index[t] * N_COORDS;
          for (int k = 0; k < N_COORDS; k++)
            shape[k] += leaf[k];
        }
    }
  for (int i = 0; i < 68; i++)
    {
      out[2 * i] = (float) (left + shape[2 * i] * bw);
      out[2 * i + 1] = (float) (top + shape[2 * i + 1] * bh);
    }
}

dlib::rectangle
to_rect (const WkpFaceBox *b)
{
  return dlib::rectangle (std::lround (b->x0), std::lround (b->y0), std::lround (b->x1) - 1, std::lround (b->y1) - 1);
}
}

struct _WkpDlib
{
  Predictor *predictor;
  dlib::frontal_face_detector detector;
  dlib::array2d<unsigned char> scaled;   /* rescaled copy for detection */
  std::vector<dlib::rect_detection> dets;
  std::vector<float> pixel_values;         /* fit scratch */
  std::vector<guint32> leaf_index;
};

extern "C" WkpDlib *
wkp_dlib_new (const char *shape_model, GError **error)
{
  try
    {
      std::string path = shape_model != nullptr ? shape_model : WKP_DLIB_SHAPE_MODEL;
      Predictor *p = load_predictor (path, error);
      if (p == nullptr)
        return nullptr;
      g_mutex_lock (&detector_lock);
      if (detector_prototype == nullptr)
        {
          try
            {
              detector_prototype = new dlib::frontal_face_detector (dlib::get_frontal_face_detector ());
            }
          catch (...)
            {
              g_mutex_unlock (&detector_lock);
              throw;
            }
        }
      std::unique_ptr<WkpDlib> d (new WkpDlib ());
      d->detector = *detector_prototype;
      g_mutex_unlock (&detector_lock);
      d->predictor = p;
      return d.release ();
    }
  catch (const std::exception &e)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_FAILED, "Cannot set up the dlib face detector: %s",
                   e.what ());
      return nullptr;
    }
  catch (...)
    {
      g_set_error_literal (error, WKP_LANDMARKS_ERROR, WKP_ERROR_FAILED,
                           "Cannot set up the dlib face detector: unknown error");
      return nullptr;
    }
}

extern "C" void
wkp_dlib_free (WkpDlib *dlib)
{
  delete dlib;
}

extern "C" const float *
wkp_dlib_mean_shape (const WkpDlib *dlib)
{
  return dlib->predictor->mean_shape;
}

extern "C" int
wkp_dlib_detect (WkpDlib *dlib, const guint8 *gray, int width, int height, int stride, double scale,
                 double threshold, WkpFaceBox *boxes, int max_boxes, GError **error)
{
  try
    {
      wkp::GrayView view = { gray, height, width, stride };
      dlib->dets.clear ();
      if (scale == 1.0)
        dlib->detector (view, dlib->dets, threshold);
      else
        {
          long rows = std::max (1L, std::lround (height * scale));
          long cols = std::max (1L, std::lround (width * scale));
          dlib->scaled.set_size (rows, cols);
          dlib::resize_image (view, dlib->scaled, dlib::interpolate_bilinear ());
          dlib->detector (dlib->scaled, dlib->dets, threshold);
        }
      std::sort (dlib->dets.begin (), dlib->dets.end (),
                 [] (const dlib::rect_detection &a, const dlib::rect_detection &b) {
                   return a.detection_confidence > b.detection_confidence;
                 });
      int n = std::min ((int) dlib->dets.size (), max_boxes);
      /* map back: a box pixel [x, x+1) at scale s covers [x/s, (x+1)/s) */
      double sx = (double) width / dlib->scaled.nc (), sy = (double) height / dlib->scaled.nr ();
      if (scale == 1.0)
        sx = sy = 1.0;
      for (int i = 0; i < n; i++)
        {
          const dlib::rectangle &r = dlib->dets[i].rect;
          boxes[i].x0 = r.left () * sx;
          boxes[i].y0 = r.top () * sy;
          boxes[i].x1 = (r.right () + 1) * sx;
          boxes[i].y1 = (r.bottom () + 1) * sy;
          boxes[i].score = dlib->dets[i].detection_confidence;
        }
      return n;
    }
  catch (const std::exception &e)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_FAILED, "Face detection failed: %s", e.what ());
      return -1;
    }
  catch (...)
    {
      g_set_error_literal (error, WKP_LANDMARKS_ERROR, WKP_ERROR_FAILED, "Face detection failed");
      return -1;
    }
}

extern "C" gboolean
wkp_dlib_fit (WkpDlib *dlib, const guint8 *gray, int width, int height, int stride, const WkpFaceBox *box,
              float *points, GError **error)
{
  try
    {
      const Predictor *p = dlib->predictor;
      if (!(box->x1 > box->x0 && box->y1 > box->y0) || !std::isfinite (box->x0) || !std::isfinite (box->y0) ||
          !std::isfinite (box->x1) || !std::isfinite (box->y1))
        {
          g_set_error_literal (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID, "Landmark fit: empty face box");
          return FALSE;
        }
      dlib->pixel_values.resize (p->n_pixels);
      dlib->leaf_index.resize (p->n_trees);
      /* dlib's rectangle has inclusive right/bottom: x1 - 1, y1 - 1 */
      predict (p, gray, width, height, stride, box->x0, box->y0, box->x1 - 1, box->y1 - 1, points,
               dlib->pixel_values.data (), dlib->leaf_index.data ());
      return TRUE;
    }
  catch (const std::exception &e)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_FAILED, "Landmark fit failed: %s", e.what ());
      return FALSE;
    }
  catch (...)
    {
      g_set_error_literal (error, WKP_LANDMARKS_ERROR, WKP_ERROR_FAILED, "Landmark fit failed");
      return FALSE;
    }
}

extern "C" gboolean
wkp_dlib_fit_reference (WkpDlib *dlib, const guint8 *gray, int width, int height, int stride,
                        const WkpFaceBox *box, float *points, GError **error)
{
  try
    {
      const std::string &path = dlib->predictor->path;
      dlib::shape_predictor *sp = nullptr;
      g_mutex_lock (&reference_lock);
      try
        {
          if (references == nullptr)
            references = new std::map<std::string, dlib::shape_predictor *> ();
          auto it = references->find (path);
          if (it == references->end ())
            {
              std::unique_ptr<dlib::shape_predictor> loaded (new dlib::shape_predictor ());
              dlib::deserialize (path) >> *loaded;
              it = references->emplace (path, loaded.release ()).first;
            }
          sp = it->second;
        }
      catch (...)
        {
          g_mutex_unlock (&reference_lock);
          throw;
        }
      g_mutex_unlock (&reference_lock);
      wkp::GrayView view = { gray, height, width, stride };
      dlib::full_object_detection shape = (*sp) (view, to_rect (box));
      for (unsigned long i = 0; i < 68; i++)
        {
          points[2 * i] = (float) shape.part (i).x ();
          points[2 * i + 1] = (float) shape.part (i).y ();
        }
      return TRUE;
    }
  catch (const std::exception &e)
    {
      g_set_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_FAILED, "dlib landmark fit failed: %s", e.what ());
      return FALSE;
    }
  catch (...)
    {
      g_set_error_literal (error, WKP_LANDMARKS_ERROR, WKP_ERROR_FAILED, "dlib landmark fit failed");
      return FALSE;
    }
}
