// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice Implemented by contracts that ask the oracle for LLM completions.
interface ILlmOracleClient {
    /// @notice Called by the oracle exactly once per prompt, when a worker has answered it.
    /// @param callbackId the id the client passed to createLlmCall
    /// @param response the model's answer (empty when error is set)
    /// @param error why there is no answer (empty on success)
    function onOracleLlmResponse(uint256 callbackId, string calldata response, string calldata error) external;
}

/// @title LlmOracle
/// @notice A Galadriel-style LLM oracle. A client contract calls createLlmCall; an off-chain worker watches
/// PromptAdded, runs the model and calls addResponse, which forwards the answer to the client.
/// @dev Prompts are never stored: storage costs ~22k gas per 32 bytes, so a stored 20 KB prompt would need
/// ~14M gas. The prompt travels in calldata and in the PromptAdded event (the worker reads it from the log);
/// the contract keeps only its keccak256, so anyone can check that the worker answered the prompt sent.
contract LlmOracle {
    /// @dev One request. requester == address(0) means "no such prompt".
    struct Prompt {
        address requester; // the contract to call back
        bool answered; // set before the callback (checks-effects-interactions)
        uint256 callbackId; // the requester's own id for this request
        bytes32 promptHash; // keccak256 of the prompt's UTF-8 bytes
    }

    /// @notice The deployer; the only account that can change the worker whitelist.
    address public immutable owner;

    /// @notice Accounts allowed to call addResponse.
    mapping(address => bool) public isWorker;

    /// @notice The number of prompts created so far. Prompt ids start at 1 (id 0 means "none"), so the
    /// latest prompt's id equals promptCount.
    uint256 public promptCount;

    mapping(uint256 => Prompt) private prompts;

    event WorkerUpdated(address indexed worker, bool allowed);
    /// @notice A new request; the prompt itself is only here, in the log data.
    event PromptAdded(uint256 indexed promptId, uint256 indexed callbackId, address sender, string prompt);
    event ResponseAdded(uint256 indexed promptId, uint256 indexed callbackId);

    constructor() {
        owner = msg.sender;
    }

    /// @notice Adds (allowed = true) or removes a worker. Owner only.
    function setWorker(address worker, bool allowed) external {
        require(msg.sender == owner, "not the owner");
        isWorker[worker] = allowed;
        emit WorkerUpdated(worker, allowed);
    }

    /// @notice Records a request for an LLM completion of prompt; msg.sender is called back.
    /// @param callbackId the caller's id for the request, passed back in onOracleLlmResponse
    /// @return promptId the oracle's id for the request, starting at 1
    function createLlmCall(uint256 callbackId, string calldata prompt) external returns (uint256 promptId) {
        promptId = ++promptCount;
        prompts[promptId] = Prompt({
            requester: msg.sender,
            answered: false,
            callbackId: callbackId,
            promptHash: keccak256(bytes(prompt))
        });
        emit PromptAdded(promptId, callbackId, msg.sender, prompt);
    }

    /// @notice Delivers the answer to a prompt (or the error that prevented one) to its requester.
    /// Whitelisted workers only, once per prompt. If the requester's callback reverts, the whole call
    /// reverts and the prompt stays unanswered, so a worker may retry.
    function addResponse(uint256 promptId, uint256 callbackId, string calldata response, string calldata error)
        external
    {
        require(isWorker[msg.sender], "not a worker");
        Prompt storage prompt = prompts[promptId];
        require(prompt.requester != address(0), "unknown prompt");
        require(prompt.callbackId == callbackId, "callback mismatch");
        require(!prompt.answered, "already answered");
        // Effects before the interaction: a re-entrant addResponse from the callback finds it answered.
        prompt.answered = true;
        ILlmOracleClient(prompt.requester).onOracleLlmResponse(callbackId, response, error);
        emit ResponseAdded(promptId, callbackId);
    }

    /// @notice True once addResponse succeeded for promptId (false for unknown ids).
    function isAnswered(uint256 promptId) external view returns (bool) {
        return prompts[promptId].answered;
    }

    /// @notice keccak256 of the prompt's bytes (zero for unknown ids).
    function promptHash(uint256 promptId) external view returns (bytes32) {
        return prompts[promptId].promptHash;
    }
}
