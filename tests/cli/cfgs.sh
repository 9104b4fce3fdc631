#!/usr/bin/env bash
# Command-line tests for the cfgs Darknet users have (issue 13): [cost] after [softmax]
# trains; keys this Darknet ignores and activations it does not know are a one-line error
# naming file:line (DKMC_ALLOW_UNUSED=1 goes on); cfgs that made the library exit, abort or
# crash get a one-line error, a non-zero exit below 128 (no signal) and no output file.
. "$(dirname "$0")/../lib/cli.sh" cfgs
# expect_cfg_error NAME NEEDLE CFG-BODY: train on it fails with rc in 1..127, exactly one stderr
# line containing NEEDLE, and no weights file
expect_cfg_error() {
    local name=$1 needle=$2 body=$3 out rc
    printf '[net]\nbatch=8\nwidth=28\nheight=28\nchannels=1\n%b' "$body" > "$T/c.cfg"
    rm -f "$T/o.weights"
    out=$($D train cfg/fashion.data "$T/c.cfg" -epochs 1 -limit 64 -no_test -out "$T/o.weights" 2>&1 >/dev/null); rc=$?
    if [ $rc -ne 0 ] && [ $rc -lt 128 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] \
       && printf '%s' "$out" | grep -qF -- "$needle" && [ ! -e "$T/o.weights" ]; then ok "$name"
    else bad "$name (rc=$rc, stderr: $out)"; fi
}
TAIL='[connected]\noutput=10\n[softmax]\n'

# [cost] after [softmax]: trains, and gives the same weights as the net without it
printf '[net]\nbatch=8\nwidth=28\nheight=28\nchannels=1\n[connected]\noutput=10\nactivation=linear\n[softmax]\n' > "$T/plain.cfg"
{ cat "$T/plain.cfg"; printf '[cost]\ntype=sse\n'; } > "$T/cost.cfg"
$D train cfg/fashion.data "$T/cost.cfg" -epochs 1 -limit 128 -no_test -out "$T/cost.weights" > "$T/cost.txt" 2>&1
check "[softmax]+[cost] trains" test -s "$T/cost.weights"
$D train cfg/fashion.data "$T/plain.cfg" -epochs 1 -limit 128 -no_test -out "$T/plain.weights" > /dev/null 2>&1
check "[softmax]+[cost] trains exactly as [softmax] alone" cmp -s "$T/cost.weights" "$T/plain.weights"

# unknown activation, unused keys: one line with file:line; the option goes on
expect_cfg_error "unknown activation" "c.cfg:9: [convolutional] activation=mish is unknown" '[convolutional]\nfilters=2\nsize=3\nactivation=mish\n'"$TAIL"
expect_cfg_error "a [crop] larger than the image" "c.cfg:6: layer 0 [crop] crop_height=224 crop_width=224: not inside the 28x28 input" '[crop]\ncrop_height=224\ncrop_width=224\nflip=1\n'"$TAIL"
expect_cfg_error "route groups" "c.cfg:11: [route] groups=2 is not read by this Darknet" '[convolutional]\nfilters=2\nsize=3\n[route]\nlayers=-1\ngroups=2\ngroup_id=0\n'"$TAIL"
expect_cfg_error "dilation" "[convolutional] dilation=2" '[convolutional]\nfilters=2\nsize=3\ndilation=2\n'"$TAIL"
expect_cfg_error "[net] key of another fork" "c.cfg:6: [net] label_smooth_eps=0.1" 'label_smooth_eps=0.1\n'"$TAIL"
printf '[net]\nbatch=8\nwidth=28\nheight=28\nchannels=1\n[convolutional]\nfilters=2\nsize=3\nactivation=mish\n[connected]\noutput=10\n[softmax]\n' > "$T/mish.cfg"
DKMC_ALLOW_UNUSED=1 $D train cfg/fashion.data "$T/mish.cfg" -epochs 1 -limit 64 -no_test -out "$T/mish.weights" > /dev/null 2>&1
check "DKMC_ALLOW_UNUSED=1 trains what Darknet builds" test -s "$T/mish.weights"

# what made the library exit, abort or crash
expect_cfg_error "policy=steps without steps" "c.cfg:6: [net] policy=steps needs both steps= and scales=" 'policy=steps\n'"$TAIL"
expect_cfg_error "unknown policy" "policy=cosine is not a policy" 'policy=cosine\n'"$TAIL"
expect_cfg_error "route without layers" "c.cfg:6: layer 0 [route] needs layers=" '[route]\n'"$TAIL"
expect_cfg_error "route out of range" "layer 5 is not an earlier layer" '[convolutional]\nfilters=2\nsize=3\n[route]\nlayers=5\n'"$TAIL"
expect_cfg_error "shortcut without from" "layer 1 [shortcut] needs from=" '[convolutional]\nfilters=2\nsize=3\n[shortcut]\n'"$TAIL"
expect_cfg_error "rnn" "layer 0 [rnn] is not supported" '[rnn]\noutput=8\n'"$TAIL"
expect_cfg_error "lstm" "layer 0 [lstm] is not supported" '[lstm]\noutput=8\n'"$TAIL"
expect_cfg_error "gru" "layer 0 [gru] is not supported" '[gru]\noutput=8\n'"$TAIL"
expect_cfg_error "layer that needs an image after one without" "layer 3 [convolutional]: Darknet's parser aborts on it: Layer before convolutional layer must output image." \
    '[convolutional]\nfilters=2\nsize=3\nstride=1\n[convolutional]\nfilters=2\nsize=3\nstride=2\n[route]\nlayers=-1,-2\n[convolutional]\nfilters=2\nsize=3\nstride=1\n'"$TAIL"
expect_cfg_error "[cost] without [softmax]" "layer 1 [cost] follows [connected], not a [softmax]" '[connected]\noutput=10\n[cost]\n'

# adam=1: our training is SGD with momentum; train refuses, curve train says so
expect_cfg_error "adam=1 refused by train" "adam=1" "adam=1\n$TAIL"
finish
