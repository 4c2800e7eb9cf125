package depth

import (
	"fmt"
	"math"
)

// Defaults for a zero [Config]: the range over which a RealSense D435
// measures depth well indoors, and its default depth unit.
const (
	DefaultNear = 0.3   // metres
	DefaultFar  = 4.0   // metres
	DefaultUnit = 0.001 // metres per Z16 step: millimetres
)

// Config sets the depths the colour map spans. The zero value spans
// 0.3 m to 4 m of millimetre depth, a RealSense D400's default.
type Config struct {
	// Near is the distance in metres shown in the nearest (warmest)
	// colour; anything nearer shows the same. Zero means 0.3 m.
	Near float64
	// Far is the distance in metres shown in the farthest (coolest)
	// colour; anything farther shows the same. Zero means 4 m. Far must
	// be greater than Near.
	Far float64
	// Unit is the depth one Z16 step stands for, in metres. Zero means
	// 0.001 (millimetres, the RealSense default); a D405 reports 0.0001.
	Unit float64
}

// withDefaults checks c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	for _, v := range []struct {
		name string
		val  float64
	}{{"Near", c.Near}, {"Far", c.Far}, {"Unit", c.Unit}} {
		if v.val < 0 || math.IsNaN(v.val) || math.IsInf(v.val, 0) {
			return c, fmt.Errorf("%w: %s %v (want a positive number of metres, or zero for the default)", ErrConfig, v.name, v.val)
		}
	}
	if c.Near == 0 {
		c.Near = DefaultNear
	}
	if c.Far == 0 {
		c.Far = DefaultFar
	}
	if c.Unit == 0 {
		c.Unit = DefaultUnit
	}
	if c.Near >= c.Far {
		return c, fmt.Errorf("%w: Near %v m is not nearer than Far %v m", ErrConfig, c.Near, c.Far)
	}
	return c, nil
}
