/* placeholder until this benchmark lands; see the open issue */
#include "wkp-cli.h"
#include "wkp-error.h"

int
wkp_bench_train (int argc, char **argv)
{
  return wkp_cli_fail ("bench", g_error_new_literal (WKP_IO_ERROR, WKP_ERROR_UNSUPPORTED,
                                                     "benchmark train not available in this build yet"));
}
