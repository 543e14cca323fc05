// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ILlmOracleClient, LlmOracle} from "./LlmOracle.sol";

/// @title LlmCritic
/// @notice Asks the LLM oracle to critique prompts: sendMessage starts a run, the oracle calls
/// onOracleLlmResponse with the answer (JSON {"score": 0-10, "description": "..."} by the critic's
/// instruction, which the off-chain side adds).
/// @dev Keeps the original app's ABI (sendMessage(string) = 0x469c8110, response() = 0x7a7f01a7), but fixes
/// its flaw: the original kept one global `response`, so concurrent or slow requests could read another
/// request's answer. Here each run has an id, returned by sendMessage and logged in RunStarted, and its own
/// answer, read with getAnswer(runId). response() remains only for old clients.
/// Prompts are not stored (only their keccak256): they travel in calldata and the oracle's PromptAdded log,
/// so a 20 KB prompt fits a 2,000,000 gas transaction (841,060 gas on anvil 1.7.1's Prague rules, where
/// EIP-7623's calldata floor dominates; 698,108 gas before Prague).
contract LlmCritic is ILlmOracleClient {
    /// @dev One critique request. requester == address(0) means "no such run".
    struct Run {
        address requester; // who called sendMessage
        bool answered;
        bytes32 promptHash; // keccak256 of the prompt's UTF-8 bytes
        string response; // the answer, empty until answered or on error
        string error; // why there is no answer, empty on success
    }

    /// @notice The oracle that is asked and that alone may answer.
    address public immutable oracle;

    /// @notice The number of runs started so far; run ids start at 1, so the latest run's id is runCount.
    uint256 public runCount;

    mapping(uint256 => Run) private runs;

    /// @dev The run whose answer response() returns; 0 (no run) until a first successful answer.
    uint256 private lastAnsweredRunId;

    event RunStarted(uint256 indexed runId, address indexed requester, bytes32 promptHash, uint256 promptId);
    event AnswerReceived(uint256 indexed runId, string response, string error);

    constructor(address oracleAddress) {
        require(oracleAddress != address(0), "oracle is zero");
        oracle = oracleAddress;
    }

    /// @notice Starts a critique of prompt.
    /// @return runId the id to read the answer with (getAnswer) and to match AnswerReceived
    function sendMessage(string calldata prompt) external returns (uint256 runId) {
        runId = ++runCount;
        bytes32 hash = keccak256(bytes(prompt));
        Run storage run = runs[runId];
        run.requester = msg.sender;
        run.promptHash = hash;
        uint256 promptId = LlmOracle(oracle).createLlmCall(runId, prompt);
        emit RunStarted(runId, msg.sender, hash, promptId);
    }

    /// @inheritdoc ILlmOracleClient
    /// @dev The callback id is the run id sendMessage passed to createLlmCall. The answer parameter is
    /// named `answer`, not `response`, so that it does not shadow response().
    function onOracleLlmResponse(uint256 runId, string calldata answer, string calldata error)
        external
        override
    {
        require(msg.sender == oracle, "only oracle");
        Run storage run = runs[runId];
        require(run.requester != address(0), "unknown run");
        require(!run.answered, "already answered");
        run.answered = true;
        run.response = answer;
        run.error = error;
        if (bytes(error).length == 0) {
            lastAnsweredRunId = runId;
        }
        emit AnswerReceived(runId, answer, error);
    }

    /// @notice The last successful answer of any run (empty before the first): the original app's getter,
    /// kept for old clients; prefer getAnswer. A view over the run's stored answer rather than a second copy
    /// of it in a `string public response`: same ABI and selector, half the storage gas per answer (storage
    /// costs ~22k gas per 32 bytes, so a copy of a 1 KB answer would cost ~0.7M gas more).
    function response() external view returns (string memory) {
        return runs[lastAnsweredRunId].response;
    }

    /// @notice The state of a run: answered is false (and both strings empty) until the oracle called back,
    /// and for unknown run ids.
    function getAnswer(uint256 runId)
        external
        view
        returns (bool answered, string memory answer, string memory error)
    {
        Run storage run = runs[runId];
        return (run.answered, run.response, run.error);
    }
}
