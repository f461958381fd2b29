/* placeholder until this subcommand lands; see the open issue */
#include "wkp-cli.h"
#include "wkp-error.h"

int
wkp_cli_landmarks (int argc, char **argv)
{
  return wkp_cli_fail ("landmarks", g_error_new_literal (WKP_IO_ERROR, WKP_ERROR_UNSUPPORTED,
                                                   "not available in this build yet"));
}
