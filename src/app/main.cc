#include "app/cli.h"

int main(int argc, char** argv) { return vectorize::app::RunCli(argc, argv); }
