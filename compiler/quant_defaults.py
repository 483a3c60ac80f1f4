"""The quantization scheme a target family runs when the workload does not name one.

fpga_dsp: FlightLLM dequantizes low-bit weights to INT8 before its INT8 DSP MACs (w4a8);
mobile_npu: llm.npu runs W8A8 per-tensor on the Hexagon NPU (w8a8); npu_pim: NeuPIMs is FP16
throughout (fp16); gpu: fp16 (the FlightLLM baseline's SmoothQuant W8A8 is asked for explicitly).
"""
DEFAULT_QUANT = {"fpga_dsp": "w4a8", "mobile_npu": "w8a8", "npu_pim": "fp16", "gpu": "fp16"}
