package logging_test

import (
	"testing"

	"github.com/oskproject/osk/internal/testing/cloudtest"
)

// oskBinary is the osk binary the rendered Jobs run.
var oskBinary string

func TestMain(m *testing.M) { cloudtest.Main(m, &oskBinary) }
